/**
 * The runtime's ceiling for this request: Bun.serve reads the JSON body, parses it, answers
 * 204. Every ratio the bench prints is against it, measured in the same run.
 */
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  async fetch(request) {
    const body = await request.json();
    if (typeof body !== "object" || body === null) return new Response("bad", { status: 400 });
    return new Response(null, { status: 204 });
  },
});
console.log(`ceiling listening on ${server.port}`);
