// What the outside-client scripts share: the pinned SDK version, the scrubbing of
// secrets from anything written out, and the checks that fail a run.

import { createRequire } from "node:module";

export const PINNED_SDK_VERSION = "1.28.35";
const require = createRequire(import.meta.url);
export const sdkVersion = require("@vercel/sdk/package.json").version;

// Every secret a run learns or is given; scrubbed from anything written out.
export const secrets = new Set();
// Shapes of tokend secrets (default prefix) and of JWTs; scrubbed too, as a safety net.
const SECRET_PATTERN = /\b[a-z]+_[0-9A-Za-z]{36}\b/g;
const JWT_PATTERN = /\beyJ[\w-]+\.[\w-]+\.[\w-]+/g;

export function redact(text) {
  let out = String(text);
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join("[REDACTED]");
  }
  return out.replace(SECRET_PATTERN, "[REDACTED]").replace(JWT_PATTERN, "[REDACTED]");
}

export class CheckFailed extends Error {
  name = "CheckFailed";
}

export function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

export function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new CheckFailed(`environment variable ${name} is not set`);
  return value;
}

export function checkPinnedVersion() {
  check(
    sdkVersion === PINNED_SDK_VERSION,
    `@vercel/sdk ${sdkVersion} is installed, ${PINNED_SDK_VERSION} is pinned`,
  );
}
