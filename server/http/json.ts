/** A JSON response; the admin API's one way of answering with a body. */
export function json(body: unknown, status = 200): Response {
  return jsonText(JSON.stringify(body), status);
}

/** A JSON response from text already serialized (rendered in parts, as the leads are). */
export function jsonText(text: string, status = 200): Response {
  return new Response(text, { status, headers: { "content-type": "application/json" } });
}
