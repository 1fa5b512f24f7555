/** A JSON response: the one way of answering with a body (the admin API, batches, oa_debug). */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return jsonText(JSON.stringify(body), status, headers);
}

/** A JSON response from text already serialized (rendered in parts, as the leads are). */
export function jsonText(
  text: string,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(text, {
    status,
    headers: { ...headers, "content-type": "application/json" },
  });
}
