/** Payload encoding: UTF-8 text and base64 (the JSON mapping of Protobuf `bytes`). */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What may be sent as a payload or body: bytes, or text (sent as UTF-8). */
export type Body = Uint8Array | string;

/** The bytes of a body. */
export function toBytes(body: Body | undefined): Uint8Array {
  if (body === undefined) {
    return new Uint8Array(0);
  }
  return typeof body === "string" ? encoder.encode(body) : body;
}

/** Base64 of a body (for `bytes` fields); empty for an empty body. */
export function toBase64(body: Body | undefined): string {
  const bytes = toBytes(body);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes of a base64 `bytes` field (absent = empty). */
export function fromBase64(text: string | undefined): Uint8Array {
  if (!text) {
    return new Uint8Array(0);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

/** UTF-8 text of bytes. */
export function utf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
