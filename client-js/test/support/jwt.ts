import { createHmac } from "node:crypto";

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** An HS256 JWT for `user`, valid `ttlSeconds`, allowed to join and publish to every group. */
export function mintToken(secret: string, user: string, ttlSeconds = 3600, claims: Record<string, unknown> = {}): string {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const now = Math.floor(Date.now() / 1000);
  const payload = base64url(
    JSON.stringify({ sub: user, iat: now, exp: now + ttlSeconds, sb_join: ["*"], sb_publish: ["*"], ...claims }),
  );
  const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}
