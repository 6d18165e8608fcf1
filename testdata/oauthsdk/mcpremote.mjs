// mcp-remote (the stdio bridge Claude Desktop users run) against engramd's
// built-in authorization server, exactly as a desktop user meets it: no
// token, no header, only the server's URL. mcp-remote registers itself,
// opens "the system browser" on the consent page, receives the code on its
// own loopback callback, and then bridges stdio JSON-RPC to /mcp.
//
// The system browser is reached through the BROWSER variable that
// xdg-open honours: a one-line shim records the URL mcp-remote asked to
// open, and headless Chromium (playwright-core) opens it and signs in with
// the one-time code, as the user would. Run by cmd/engramd/oauthsdk_test.go;
// prints one JSON line of findings.
//
// env: ENGRAM_URL, ENGRAM_SIGNIN_CODE, CHROMIUM, SCREENSHOT_DIR, WORK_DIR
// (an empty folder for mcp-remote's token store and the shim).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const base = process.env.ENGRAM_URL;
const signInCode = process.env.ENGRAM_SIGNIN_CODE;
const shots = process.env.SCREENSHOT_DIR;
const work = process.env.WORK_DIR;
const findings = { cspViolations: [] };

const opened = path.join(work, 'opened-urls.txt');
const shim = path.join(work, 'browser.sh');
fs.writeFileSync(shim, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`, { mode: 0o755 });

// A free port for mcp-remote's callback listener.
const callbackPort = await new Promise((res) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});

const stderr = [];
const bridge = spawn(process.execPath, [path.join('node_modules', 'mcp-remote', 'dist', 'proxy.js'), base + '/mcp', String(callbackPort)], {
  env: { ...process.env, BROWSER: shim, MCP_REMOTE_CONFIG_DIR: path.join(work, 'mcp-auth'), DISPLAY: '' },
  stdio: ['pipe', 'pipe', 'pipe'],
});
bridge.stderr.on('data', (d) => stderr.push(d.toString()));
const exited = new Promise((res) => bridge.on('exit', (code) => res(code)));

// JSON-RPC over the bridge's stdio.
const pending = new Map();
readline.createInterface({ input: bridge.stdout }).on('line', (line) => {
  let msg;
  try { msg = JSON.parse(line); } catch { return; }
  if (msg.id !== undefined && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
});
let nextId = 1;
function call(method, params) {
  const id = nextId++;
  const answer = new Promise((res) => pending.set(id, res));
  bridge.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
  return answer;
}

async function within(ms, what, p) {
  let timer;
  const timeout = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what} took over ${ms} ms; mcp-remote said:\n${stderr.join('')}`)), ms); });
  try { return await Promise.race([p, timeout]); } finally { clearTimeout(timer); }
}

async function urlTheBridgeOpened() {
  for (;;) {
    if (fs.existsSync(opened)) {
      const first = fs.readFileSync(opened, 'utf8').split('\n').find((l) => l.trim());
      if (first) return first.trim();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // mcp-remote connects at start, meets 401, registers and opens the browser.
  const authURL = await within(60000, 'mcp-remote opening the browser', urlTheBridgeOpened());
  findings.authorizeURL = authURL.split('?')[0];
  const page = await browser.newPage();
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) findings.cspViolations.push(m.text()); });
  await page.goto(authURL);
  findings.consentTitle = await page.title();
  if (shots) await page.screenshot({ path: path.join(shots, 'mcp-remote-consent.png'), fullPage: true });
  await page.fill('#secret', signInCode);
  const callbackPrefix = `http://localhost:${callbackPort}/`;
  await Promise.all([
    page.waitForURL((u) => u.toString().startsWith(callbackPrefix) || u.toString().startsWith(`http://127.0.0.1:${callbackPort}/`)),
    page.click('#allow'),
  ]);
  findings.callbackPage = (await page.textContent('body')).trim().slice(0, 200);
  await page.close();

  const init = await within(60000, 'initialize through the bridge', call('initialize', {
    protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'claude-desktop', version: '0.0.0-test' },
  }));
  findings.serverName = init.result?.serverInfo?.name;
  bridge.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
  const tools = await within(30000, 'tools/list through the bridge', call('tools/list', {}));
  findings.tools = (tools.result?.tools || []).map((t) => t.name);
  const added = await within(30000, 'add_memories through the bridge', call('tools/call', {
    name: 'add_memories', arguments: { text: 'Signed in through mcp-remote with no token pasted' },
  }));
  findings.addError = added.result?.isError === true || added.error !== undefined;
  const found = await within(30000, 'search_memory through the bridge', call('tools/call', {
    name: 'search_memory', arguments: { query: 'mcp-remote signed in' },
  }));
  findings.searchText = JSON.stringify(found.result?.content || found.error || null).slice(0, 400);
  findings.tokensStored = fs.readdirSync(path.join(work, 'mcp-auth'), { recursive: true }).some((f) => String(f).endsWith('_tokens.json'));
} finally {
  bridge.kill();
  await exited;
  await browser.close();
}
console.log(JSON.stringify(findings));
