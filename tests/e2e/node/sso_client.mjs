// Outside-client check of tokend as an OpenID Connect provider: the real, unmodified
// @vercel/sdk (pinned in package.json / package-lock.json) trades an authorization
// code, then a refresh token, at POST /v1/integrations/sso/token
// (vercel.authentication.exchangeSsoToken).
//
// Input (environment only, never argv, so secrets stay out of `ps`):
//   TOKEND_URL          base URL of the running server, e.g. http://127.0.0.1:8000
//   SSO_CLIENT_ID       the integration's client id
//   SSO_CLIENT_SECRET   the integration's client secret
//   and either
//   SSO_CODE            an authorization code: it is exchanged, then the refresh
//   SSO_REDIRECT_URI    token that exchange returned is exchanged in turn
//   or
//   SSO_REFRESH_TOKEN   a refresh token, exchanged once (the test's reuse of an old one)
//
// Output: one JSON object on stdout: for each exchange, what the SDK returned and the
// raw JSON the server sent, or the HTTP error the SDK threw. The caller needs the
// tokens (it verifies the id_token and uses the access token), so they are on stdout,
// which only the calling test reads; the client secret and the code never are, and
// stderr never carries a secret.
// Exit status: 0 when every exchange answered as HTTP (success or HTTP error);
// 1 with the error message on stderr otherwise.

import { HTTPClient, Vercel } from "@vercel/sdk";

import { CheckFailed, check, checkPinnedVersion, redact, requireEnv, sdkVersion, secrets } from "./common.mjs";

// The raw HTTP exchanges, in order, captured by hooks: what the SDK sent and got.
const exchanges = [];

function makeClient(serverURL) {
  const httpClient = new HTTPClient();
  // The request's body is read before fetch consumes it.
  let sentFields = [];
  httpClient.addHook("beforeRequest", async (req) => {
    const requestBody = await req.clone().text();
    sentFields = Object.keys(JSON.parse(requestBody || "{}")).sort();
  });
  httpClient.addHook("response", async (res, req) => {
    exchanges.push({
      method: req.method,
      path: new URL(req.url).pathname,
      requestContentType: req.headers.get("content-type"),
      requestAuthorization: req.headers.has("authorization"),
      requestFields: sentFields,
      status: res.status,
      responseContentType: res.headers.get("content-type"),
      cacheControl: res.headers.get("cache-control"),
      body: await res.clone().text(),
    });
  });
  // No bearer token: the token endpoint authenticates the client by its secret.
  return new Vercel({ serverURL, httpClient, timeoutMs: 20_000 });
}

// One exchangeSsoToken call: the SDK's result and the server's raw JSON, or the
// HTTP error the SDK threw (anything else, a validation failure included, is fatal).
async function exchange(vercel, label, request) {
  const before = exchanges.length;
  let result;
  try {
    result = await vercel.authentication.exchangeSsoToken(request);
  } catch (err) {
    if (typeof err?.statusCode !== "number" || err.statusCode < 400 || "rawValue" in err) {
      throw err;
    }
    check(exchanges.length === before + 1, `${label}: expected exactly one HTTP exchange`);
    let body;
    try {
      body = JSON.parse(err.body);
    } catch {
      body = err.body;
    }
    return { label, error: { name: err.name, status: err.statusCode, body }, http: summary(before) };
  }
  check(exchanges.length === before + 1, `${label}: expected exactly one HTTP exchange`);
  for (const key of ["accessToken", "refreshToken", "idToken"]) {
    if (typeof result[key] === "string") secrets.add(result[key]);
  }
  let raw;
  try {
    raw = JSON.parse(exchanges[before].body);
  } catch (err) {
    throw new CheckFailed(`${label}: response body is not JSON: ${err.message}`);
  }
  return { label, result, raw, http: summary(before) };
}

function summary(index) {
  const { body, ...rest } = exchanges[index];
  return rest;
}

async function main() {
  checkPinnedVersion();
  const serverURL = requireEnv("TOKEND_URL");
  const clientId = requireEnv("SSO_CLIENT_ID");
  const clientSecret = requireEnv("SSO_CLIENT_SECRET");
  secrets.add(clientSecret);
  const vercel = makeClient(serverURL);
  const steps = [];

  if (process.env.SSO_CODE) {
    const code = process.env.SSO_CODE;
    secrets.add(code);
    const redirectUri = requireEnv("SSO_REDIRECT_URI");
    const first = await exchange(vercel, "authorization_code", {
      code,
      clientId,
      clientSecret,
      redirectUri,
      grantType: "authorization_code",
    });
    steps.push(first);
    if (first.result?.refreshToken) {
      steps.push(
        await exchange(vercel, "refresh_token", {
          refreshToken: first.result.refreshToken,
          clientId,
          clientSecret,
          grantType: "refresh_token",
        }),
      );
    }
  } else {
    const refreshToken = requireEnv("SSO_REFRESH_TOKEN");
    secrets.add(refreshToken);
    steps.push(
      await exchange(vercel, "refresh_token", {
        refreshToken,
        clientId,
        clientSecret,
        grantType: "refresh_token",
      }),
    );
  }
  return { sdkVersion, steps };
}

try {
  const out = JSON.stringify(await main(), null, 2);
  check(!out.includes(process.env.SSO_CLIENT_SECRET), "refusing to print the client secret");
  check(!process.env.SSO_CODE || !out.includes(process.env.SSO_CODE), "refusing to print the code");
  process.stdout.write(`${out}\n`);
} catch (err) {
  const detail =
    typeof err?.pretty === "function" ? `${err.name}: ${err.pretty()}` : (err?.stack ?? String(err));
  process.stderr.write(`sso_client failed: ${redact(detail)}\n`);
  process.exitCode = 1;
}
