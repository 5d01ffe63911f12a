// Outside-client end-to-end check: drives a live tokend server with the real,
// unmodified @vercel/sdk (pinned in package.json / package-lock.json).
//
// Input (environment only, never argv, so secrets stay out of `ps`):
//   TOKEND_URL    base URL of the running server, e.g. http://127.0.0.1:8000
//   TOKEND_TOKEN  a valid bearer secret of the acting user
//
// Output: one JSON object on stdout summarising what the SDK saw (ids, names,
// pagination, status codes). No bearer token / secret is ever printed.
// Exit status: 0 on success; 1 with the error message on stderr otherwise.
//
// The SDK validates every response with zod and throws on a mismatch; such an
// error propagates and fails the run. The SDK's zod schemas are lax (a missing
// required field becomes a zero value, a number sent as a string is coerced), so
// in addition every token-related response the SDK parsed is compared with the
// raw JSON the server sent: any field the SDK had to invent, coerce or drop fails
// the run too.

import { isDeepStrictEqual } from "node:util";

import { HTTPClient, Vercel } from "@vercel/sdk";

import { CheckFailed, check, checkPinnedVersion, redact, requireEnv, sdkVersion, secrets } from "./common.mjs";

// The raw HTTP exchanges, in order, captured by a response hook.
const exchanges = [];

function makeClient(bearerToken, serverURL) {
  const httpClient = new HTTPClient();
  httpClient.addHook("response", async (res, req) => {
    const body = await res.clone().text();
    exchanges.push({
      method: req.method,
      path: new URL(req.url).pathname,
      status: res.status,
      body,
    });
  });
  return new Vercel({ bearerToken, serverURL, httpClient, timeoutMs: 20_000 });
}

function lastExchange() {
  check(exchanges.length > 0, "no HTTP exchange was captured");
  return exchanges[exchanges.length - 1];
}

// Calls the SDK, returns its parsed result plus the raw status and JSON body.
async function call(label, fn) {
  const before = exchanges.length;
  const result = await fn();
  check(exchanges.length === before + 1, `${label}: expected exactly one HTTP exchange`);
  const exchange = lastExchange();
  let raw;
  try {
    raw = exchange.body ? JSON.parse(exchange.body) : undefined;
  } catch (err) {
    throw new CheckFailed(`${label}: response body is not JSON: ${err.message}`);
  }
  return { result, status: exchange.status, raw };
}

// Calls the SDK expecting it to throw an HTTP error; returns status and error body.
async function callExpectingError(label, fn) {
  let value;
  try {
    value = await fn();
  } catch (err) {
    // Only an HTTP error status is expected; anything else (connection trouble,
    // a response that failed validation, which also carries a statusCode) fails loudly.
    if (typeof err?.statusCode !== "number" || err.statusCode < 400 || "rawValue" in err) {
      throw err;
    }
    let body;
    try {
      body = JSON.parse(err.body);
    } catch {
      body = undefined;
    }
    return {
      status: err.statusCode,
      errorName: err.name,
      code: body?.error?.code,
      message: body?.error?.message,
      wwwAuthenticate: err.headers?.get("www-authenticate") ?? null,
    };
  }
  throw new CheckFailed(`${label}: expected an HTTP error, got ${JSON.stringify(value)}`);
}

// tokend's additions to a token, which the SDK does not know and so drops: a
// restricted token's `permissions`, and `inactivityExpiresAt` where a lifecycle policy
// sets an inactivity limit. Counted, so the caller knows the SDK met them.
const EXTENSIONS = new Set(["permissions", "inactivityExpiresAt"]);
let permissionsDropped = 0;

function withoutExtensions(value) {
  if (Array.isArray(value)) return value.map(withoutExtensions);
  if (value === null || typeof value !== "object") return value;
  const copy = {};
  for (const [key, item] of Object.entries(value)) {
    if (EXTENSIONS.has(key) && "prefix" in value && "suffix" in value) {
      if (key === "permissions") permissionsDropped += 1;
      continue;
    }
    copy[key] = withoutExtensions(item);
  }
  return copy;
}

// The SDK's parsed value must equal what the server sent: nothing invented,
// coerced or dropped by the SDK's lax parsing (but tokend's one extension).
function exact(label, parsed, raw) {
  check(
    isDeepStrictEqual(JSON.parse(JSON.stringify(parsed)), withoutExtensions(raw)),
    `${label}: the SDK's parsed value differs from the server's JSON` +
      `\n  parsed: ${JSON.stringify(parsed)}\n  raw:    ${JSON.stringify(raw)}`,
  );
}

// Keys whose values differ between the SDK's view and the raw JSON (informational).
function differences(parsed, raw) {
  const keys = new Set([...Object.keys(parsed ?? {}), ...Object.keys(raw ?? {})]);
  return [...keys]
    .filter((k) => !isDeepStrictEqual(parsed?.[k], raw?.[k]))
    .sort()
    .map((k) => ({ field: k, sdk: parsed?.[k] ?? null, server: raw?.[k] ?? null }));
}

async function main() {
  checkPinnedVersion();
  const serverURL = requireEnv("TOKEND_URL");
  const callerToken = requireEnv("TOKEND_TOKEN");
  secrets.add(callerToken);

  const statuses = {};
  const vercel = makeClient(callerToken, serverURL);

  // --- who am I -----------------------------------------------------------------
  const me = await call("user.getAuthUser", () => vercel.user.getAuthUser());
  statuses.getAuthUser = me.status;
  check(me.status === 200, `getAuthUser: status ${me.status}`);
  check(me.result?.user, "getAuthUser: no user in the SDK's result");
  const user = me.result.user;

  const callerCurrent = await call("getAuthToken(current)", () =>
    vercel.authentication.getAuthToken({ tokenId: "current" }),
  );
  statuses.getCurrent = callerCurrent.status;
  exact("getAuthToken(current)", callerCurrent.result, callerCurrent.raw);

  // --- create -------------------------------------------------------------------
  const now = Date.now();
  const plans = {
    // used as a second client, then revokes itself via tokenId "current"
    session: { name: "sdk-e2e-session", expiresAt: now + 60 * 60 * 1000 },
    // revoked by id from the first client
    doomed: { name: "sdk-e2e-doomed", expiresAt: now + 2 * 60 * 60 * 1000 },
    // survives, so the caller can compare it with what the server holds
    kept: { name: "sdk-e2e-kept", expiresAt: now + 24 * 60 * 60 * 1000 },
  };
  const created = {};
  const bearer = {};
  statuses.create = [];
  for (const [key, requestBody] of Object.entries(plans)) {
    const made = await call(`createAuthToken(${key})`, () =>
      vercel.authentication.createAuthToken({ requestBody }),
    );
    statuses.create.push(made.status);
    check(made.status === 200, `createAuthToken(${key}): status ${made.status}`);
    const secret = made.result.bearerToken;
    check(typeof secret === "string" && secret.length > 0, `createAuthToken(${key}): no bearerToken`);
    secrets.add(secret);
    bearer[key] = secret;
    exact(`createAuthToken(${key}).token`, made.result.token, made.raw.token);
    check(made.raw.bearerToken === secret, `createAuthToken(${key}): bearerToken altered by SDK`);
    created[key] = {
      token: made.result.token,
      bearerTokenReturned: true,
      bearerTokenMatchesPrefix:
        made.result.token.prefix === undefined || secret.startsWith(made.result.token.prefix),
      bearerTokenMatchesSuffix:
        made.result.token.suffix === undefined || secret.endsWith(made.result.token.suffix),
    };
  }

  // --- list ---------------------------------------------------------------------
  const listed = await call("listAuthTokens", () => vercel.authentication.listAuthTokens());
  statuses.list = listed.status;
  exact("listAuthTokens", listed.result, listed.raw);

  // --- get by id and current ----------------------------------------------------
  const byId = {};
  statuses.getById = [];
  for (const [key, entry] of Object.entries(created)) {
    const got = await call(`getAuthToken(${key})`, () =>
      vercel.authentication.getAuthToken({ tokenId: entry.token.id }),
    );
    statuses.getById.push(got.status);
    exact(`getAuthToken(${key})`, got.result, got.raw);
    byId[key] = got.result.token;
  }

  const session = makeClient(bearer.session, serverURL);
  const sessionCurrent = await call("session getAuthToken(current)", () =>
    session.authentication.getAuthToken({ tokenId: "current" }),
  );
  statuses.sessionGetCurrent = sessionCurrent.status;
  exact("session getAuthToken(current)", sessionCurrent.result, sessionCurrent.raw);
  const sessionUser = await call("session user.getAuthUser", () => session.user.getAuthUser());
  statuses.sessionGetAuthUser = sessionUser.status;

  // --- delete by id ---------------------------------------------------------------
  const deletedById = await call("deleteAuthToken(doomed)", () =>
    vercel.authentication.deleteAuthToken({ tokenId: created.doomed.token.id }),
  );
  statuses.deleteById = deletedById.status;
  exact("deleteAuthToken(doomed)", deletedById.result, deletedById.raw);
  const doomedAfter = await callExpectingError("getAuthToken(doomed) after delete", () =>
    vercel.authentication.getAuthToken({ tokenId: created.doomed.token.id }),
  );
  const doomedDeleteAgain = await callExpectingError("deleteAuthToken(doomed) again", () =>
    vercel.authentication.deleteAuthToken({ tokenId: created.doomed.token.id }),
  );

  // --- delete current, from the second client -------------------------------------
  const deletedCurrent = await call("session deleteAuthToken(current)", () =>
    session.authentication.deleteAuthToken({ tokenId: "current" }),
  );
  statuses.deleteCurrent = deletedCurrent.status;
  exact("session deleteAuthToken(current)", deletedCurrent.result, deletedCurrent.raw);

  const revokedGetCurrent = await callExpectingError("revoked getAuthToken(current)", () =>
    session.authentication.getAuthToken({ tokenId: "current" }),
  );
  const revokedGetUser = await callExpectingError("revoked user.getAuthUser", () =>
    session.user.getAuthUser(),
  );
  check(revokedGetCurrent.status === 401, `revoked token: status ${revokedGetCurrent.status}`);
  check(revokedGetUser.status === 401, `revoked token: status ${revokedGetUser.status}`);

  // --- list again -------------------------------------------------------------------
  // --- restricted tokens, made by the caller's test through tokend's own API -------
  const restricted = {};
  for (const id of (process.env.TOKEND_RESTRICTED_IDS ?? "").split(",").filter(Boolean)) {
    const got = await call(`getAuthToken(restricted ${id})`, () =>
      vercel.authentication.getAuthToken({ tokenId: id }),
    );
    exact(`getAuthToken(restricted ${id})`, got.result, got.raw);
    restricted[id] = { sdk: got.result.token, permissions: got.raw.token.permissions ?? null };
  }

  const listedAfter = await call("listAuthTokens after deletes", () =>
    vercel.authentication.listAuthTokens(),
  );
  statuses.listAfter = listedAfter.status;
  exact("listAuthTokens after deletes", listedAfter.result, listedAfter.raw);

  return {
    sdkVersion,
    statuses,
    user,
    userSdkDifferences: differences(user, me.raw?.user),
    sessionUserId: sessionUser.result?.user?.id ?? null,
    callerCurrent: callerCurrent.result.token,
    created,
    list: {
      ids: listed.result.tokens.map((t) => t.id),
      names: listed.result.tokens.map((t) => t.name),
      pagination: listed.result.pagination,
      tokens: listed.result.tokens,
    },
    getById: byId,
    sessionCurrent: sessionCurrent.result.token,
    deleteById: deletedById.result,
    doomedAfterDelete: doomedAfter,
    doomedDeleteAgain,
    deleteCurrent: deletedCurrent.result,
    revokedGetCurrent,
    revokedGetUser,
    listAfter: {
      ids: listedAfter.result.tokens.map((t) => t.id),
      pagination: listedAfter.result.pagination,
    },
    restricted,
    permissionsDropped,
    exchanges: exchanges.map(({ method, path, status }) => ({ method, path, status })),
  };
}

try {
  const summary = JSON.stringify(await main(), null, 2);
  for (const secret of secrets) {
    if (summary.includes(secret)) throw new CheckFailed("refusing to print: summary contains a secret");
  }
  process.stdout.write(`${summary}\n`);
} catch (err) {
  const detail =
    typeof err?.pretty === "function" ? `${err.name}: ${err.pretty()}` : (err?.stack ?? String(err));
  process.stderr.write(`sdk_client failed: ${redact(detail)}\n`);
  process.exitCode = 1;
}
