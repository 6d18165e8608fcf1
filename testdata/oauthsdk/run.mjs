// The official MCP TypeScript SDK's OAuth client against engramd's built-in
// authorization server, with the consent page driven in headless Chromium.
// Run by cmd/engramd/oauthsdk_test.go; prints one JSON line of findings.
//
// env: ENGRAM_URL (engramd's public URL), ENGRAM_SIGNIN_CODE (the one-time
// code engramd printed), CHROMIUM (the browser binary), SCREENSHOT_DIR.
import http from 'node:http';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { chromium } from 'playwright-core';

const base = process.env.ENGRAM_URL;
const signInCode = process.env.ENGRAM_SIGNIN_CODE;
const shots = process.env.SCREENSHOT_DIR;
const findings = { cspViolations: [] };

// The client's loopback redirect target, as a desktop MCP client runs one.
const callback = http.createServer();
await new Promise((res) => callback.listen(0, '127.0.0.1', res));
const redirectUrl = `http://127.0.0.1:${callback.address().port}/callback`;
let gotCallback;
const callbackParams = new Promise((res) => { gotCallback = res; });
callback.on('request', (req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('signed in; you may close this window');
  gotCallback(new URL(req.url, redirectUrl).searchParams);
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const provider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return {
      client_name: 'MCP SDK test client', redirect_uris: [redirectUrl], token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    };
  },
  clientInformation() { return this.info; },
  saveClientInformation(info) { this.info = info; findings.clientId = info.client_id; },
  tokens() { return this.saved; },
  saveTokens(t) { this.saved = t; findings.tokenSaves = (findings.tokenSaves || 0) + 1; },
  saveCodeVerifier(v) { this.verifier = v; },
  codeVerifier() { return this.verifier; },
  async redirectToAuthorization(url) {
    const page = await browser.newPage();
    page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) findings.cspViolations.push(m.text()); });
    await page.goto(url.toString());
    findings.consentTitle = await page.title();
    findings.scopesListed = await page.locator('li code').allTextContents();
    if (shots) await page.screenshot({ path: path.join(shots, 'consent.png'), fullPage: true });
    // A wrong code first: the page must say so, and keep the form.
    await page.fill('#secret', 'WRONG-CODE-0000-0000');
    await page.click('#allow');
    await page.waitForSelector('#signin-error');
    findings.wrongCodeMessage = (await page.textContent('#signin-error')).trim();
    if (shots) await page.screenshot({ path: path.join(shots, 'consent-wrong-code.png'), fullPage: true });
    await page.fill('#secret', signInCode);
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(redirectUrl)), page.click('#allow')]);
    await page.close();
  },
};

async function connect() {
  const client = new Client({ name: 'oauth-sdk-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(base + '/mcp'), { authProvider: provider });
  return { client, transport, done: client.connect(transport) };
}

try {
  let { transport, done } = await connect();
  try {
    await done;
    throw new Error('connected without signing in');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  const params = await callbackParams;
  findings.state = params.get('state') !== null;
  findings.iss = params.get('iss');
  await transport.finishAuth(params.get('code'));

  let c = await connect();
  await c.done;
  const tools = await c.client.listTools();
  findings.tools = tools.tools.map((t) => t.name);
  await c.client.close();

  // An expired access token: the SDK refreshes (the refresh token rotates)
  // and goes on, with no browser.
  provider.saved = { ...provider.saved, access_token: 'expired.or.revoked' };
  const oldRefresh = provider.saved.refresh_token;
  c = await connect();
  await c.done;
  findings.toolsAfterRefresh = (await c.client.listTools()).tools.length;
  findings.refreshRotated = provider.saved.refresh_token !== oldRefresh;
  await c.client.close();
} finally {
  await browser.close();
  callback.close();
}
console.log(JSON.stringify(findings));
