/**
 * The runtime's ceiling for this request: Bun.serve reads the JSON body, parses it, answers
 * 204. With THREADS=N, N threads serve the same port with SO_REUSEPORT (the kernel spreads
 * connections over them): the ceiling a multi-threaded trackd could approach.
 */
import { isMainThread, workerData } from "node:worker_threads";

function serve(port: number) {
  return Bun.serve({
    port,
    reusePort: true,
    async fetch(request) {
      const body = await request.json();
      if (typeof body !== "object" || body === null) return new Response("bad", { status: 400 });
      return new Response(null, { status: 204 });
    },
  });
}

if (isMainThread) {
  const server = serve(Number(process.env.PORT ?? 0));
  const threads = Number(process.env.THREADS ?? 1);
  for (let i = 1; i < threads; i++)
    new Worker(import.meta.url, { workerData: { port: server.port } } as WorkerOptions);
  console.log(`ceiling listening on ${server.port}`);
} else {
  serve((workerData as { port: number }).port);
}
