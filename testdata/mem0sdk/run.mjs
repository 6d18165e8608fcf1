// Drives mem0's own SDKs (a pinned 3.x as "mem0ai", the last 2.x as
// "mem0ai-v2") against a live engramd, with a project key and two user_ids,
// and checks that a key of another org reaches nothing. Run by
// cmd/engramd/mem0sdk_test.go; prints one JSON line per SDK and exits
// non-zero on the first failed check.
import { readFileSync } from "node:fs";
import V3 from "mem0ai";
import V2 from "mem0ai-v2";

const host = process.env.ENGRAM_URL;
const key = process.env.ENGRAM_PROJECT_KEY;
const otherOrgKey = process.env.ENGRAM_OTHER_ORG_KEY;
const run = process.env.ENGRAM_RUN_TAG || String(Date.now());

function check(cond, what, got) {
  if (!cond) throw new Error(`${what}; got ${JSON.stringify(got)}`);
}

async function refused(fn, what) {
  try {
    await fn();
  } catch (e) {
    return String(e.message || e);
  }
  throw new Error(`${what} should have failed`);
}

function version(pkg) {
  return JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url))).version;
}

async function v3() {
  const c = new V3({ apiKey: key, host });
  const alice = `alice-${run}`, bob = `bob-${run}`;
  const added = await c.add([{ role: "user", content: "Alice drinks green tea every morning" }],
    { user_id: alice, metadata: { topic: "food" }, infer: true });
  check(added.results && added.results.length === 1, "add returns one result", added);
  const id = added.results[0].id;
  await c.add([{ role: "user", content: "Bob plays chess on Sundays" }], { user_id: bob, metadata: { topic: "games" } });

  const hits = await c.search("tea", { filters: { AND: [{ user_id: alice }, { metadata: { topic: "food" } }] } });
  check(hits.results.length === 1 && hits.results[0].memory === "Alice drinks green tea every morning", "filtered search finds alice's memory", hits);
  const bobs = await c.search("tea", { filters: { user_id: bob } });
  check(bobs.results.every((h) => h.userId === bob), "bob's search sees only bob", bobs);

  // Agent and run scopes, OR/NOT filters and a similarity threshold.
  await c.add([{ role: "user", content: "The planner booked a window seat" }], { userId: alice, agentId: "planner", runId: "trip-1" });
  await c.add([{ role: "user", content: "The critic disliked the window seat" }], { userId: alice, agentId: "critic", runId: "trip-1" });
  const scoped = await c.search("window seat", { filters: { AND: [{ user_id: alice },
    { OR: [{ agent_id: "planner" }, { run_id: "no-such-run" }] }, { NOT: { metadata: { topic: "food" } } }] } });
  check(scoped.results.length === 1 && scoped.results[0].agentId === "planner" && scoped.results[0].runId === "trip-1",
    "OR/NOT search by agent", scoped);
  const byRun = await c.getAll({ filters: { AND: [{ user_id: alice }, { run_id: { in: ["trip-1"] } }, { NOT: { agent_id: "critic" } }] }, page: 1, pageSize: 10 });
  check(byRun.count === 1 && byRun.results[0].memory === "The planner booked a window seat", "list by run without the critic", byRun);
  const thr = await c.search("window seat", { filters: { user_id: alice }, threshold: 0.2, topK: 10 });
  check(thr.results.length === 2 && thr.results.every((h) => h.score >= 0.2 && /window seat/.test(h.memory)),
    "threshold keeps the similar memories only", thr);
  await c.deleteAll({ userId: alice, agentId: "critic" });

  const page = await c.getAll({ filters: { user_id: alice }, page: 1, pageSize: 10 });
  check(page.count === 2 && page.results.length === 2 && page.next === null, "paged list of alice (tea and the planner's)", page);

  const got = await c.get(id);
  check(got.memory === "Alice drinks green tea every morning" && got.userId === alice, "get by id", got);
  const upd = await c.update(id, { text: "Alice drinks oolong tea" });
  check(upd.memory === "Alice drinks oolong tea", "update", upd);
  // expirationDate is kept (through that day), removed with null, and a
  // past one is refused.
  const exp = new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 10);
  const withExp = await c.add([{ role: "user", content: "Alice is in Lisbon this month" }], { userId: alice, expirationDate: exp, infer: false });
  const expId = withExp.results[0].id;
  const gotExp = await c.get(expId);
  check(gotExp.expirationDate === exp, "expiration date kept", gotExp);
  const cleared = await c.update(expId, { expirationDate: null });
  check(cleared.expirationDate === null, "expiration date removed with null", cleared);
  const past = await refused(() => c.add([{ role: "user", content: "Alice was in Oslo" }], { userId: alice, expirationDate: "2000-01-01", infer: false }),
    "an expiration date in the past");
  check(/400|expiration_date/i.test(past), "a past expiration date is refused", past);
  await c.delete(expId);
  // timestamp (Unix seconds) dates a memory when it was made.
  const then = Date.UTC(2024, 2, 1, 12, 30) / 1000;
  const dated = await c.add([{ role: "user", content: "Alice lived in Lisbon" }], { userId: alice, timestamp: then, infer: false });
  const gotDated = await c.get(dated.results[0].id);
  check(new Date(gotDated.createdAt).getTime() === then * 1000, "timestamp backdates created_at", gotDated);
  await c.delete(dated.results[0].id);

  const hist = await c.history(id);
  check(hist.length === 2 && hist[1].event === "UPDATE" && hist[1].newMemory === "Alice drinks oolong tea", "history", hist);

  const other = new V3({ apiKey: otherOrgKey, host });
  const err = await refused(() => other.get(id), "another org's key reading the memory");
  check(/not.found|404/i.test(err), "another org's key gets not found", err);

  await c.delete(id);
  await refused(() => c.get(id), "reading a deleted memory");
  return { sdk: `mem0ai@${version("mem0ai")}`, ok: true };
}

async function v2() {
  const c = new V2({ apiKey: key, host });
  const carol = `carol-${run}`, dave = `dave-${run}`;
  const added = await c.add("Carol listens to jazz on vinyl", { user_id: carol, metadata: { topic: "music" } });
  check(Array.isArray(added) && added.length === 1 && added[0].event === "ADD", "add returns one event", added);
  const id = added[0].id;
  await c.add([{ role: "user", content: "Dave collects stamps" }], { user_id: dave });

  const v1hits = await c.search("jazz", { user_id: carol });
  check(Array.isArray(v1hits) && v1hits.length === 1 && v1hits[0].memory === "Carol listens to jazz on vinyl", "v1 search", v1hits);
  const v2hits = await c.search("jazz", { api_version: "v2", filters: { AND: [{ user_id: carol }, { metadata: { topic: "music" } }] } });
  check(v2hits.length === 1 && v2hits[0].id === id, "v2 search with filters", v2hits);
  const daves = await c.search("jazz", { user_id: dave });
  check(daves.every((h) => h.user_id === dave), "dave's search sees only dave", daves);

  await c.add("Carol's DJ agent queued a jazz record", { user_id: carol, agent_id: "dj", run_id: "set-1" });
  const djs = await c.search("jazz", { api_version: "v2", filters: { AND: [{ user_id: carol }, { OR: [{ agent_id: "dj" }, { run_id: "set-9" }] }] } });
  check(djs.length === 1 && djs[0].agent_id === "dj" && djs[0].run_id === "set-1", "v2 OR search by agent", djs);
  const notDj = await c.search("jazz", { api_version: "v2", filters: { AND: [{ user_id: carol }, { NOT: { agent_id: "*" } }] } });
  check(notDj.length === 1 && notDj[0].id === id, "v2 NOT search", notDj);
  const thr = await c.search("vinyl", { user_id: carol, threshold: 0.2 });
  check(thr.length === 1 && thr[0].id === id && thr[0].score >= 0.2, "threshold drops the dissimilar memory", thr);
  await c.deleteAll({ user_id: carol, agent_id: "dj" });

  const all = await c.getAll({ user_id: carol });
  check(Array.isArray(all) && all.length === 1, "v1 list", all);
  const paged = await c.getAll({ api_version: "v2", filters: { user_id: carol }, page: 1, page_size: 5 });
  check(paged.count === 1 && paged.results[0].id === id, "v2 paged list", paged);

  const got = await c.get(id);
  check(got.memory === "Carol listens to jazz on vinyl" && got.user_id === carol, "get by id", got);
  const upd = await c.update(id, { text: "Carol listens to jazz and blues" });
  check(upd.memory === "Carol listens to jazz and blues", "update", upd);
  const hist = await c.history(id);
  check(hist.length === 2 && hist[1].old_memory === "Carol listens to jazz on vinyl", "history", hist);

  const other = new V2({ apiKey: otherOrgKey, host });
  const err = await refused(() => other.get(id), "another org's key reading the memory");
  check(/not.found|404/i.test(err), "another org's key gets not found", err);
  // Naming carol of the key's org from another org's key means naming
  // that org (2.x sends organizationId/projectId as org_id/project_id):
  // refused with 403, nothing written (docs/security.md).
  const { org_id: org } = await (await fetch(`${host}/v1/ping/`, { headers: { Authorization: `Token ${key}` } })).json();
  const aimed = new V2({ apiKey: otherOrgKey, host, organizationId: org, projectId: org });
  const err403 = await refused(() => aimed.add("planted by another org", { user_id: carol }), "another org's key naming this org's user");
  check(/403|another organisation/i.test(err403), "another org's key naming this org's user gets 403", err403);

  await c.delete(id);
  await refused(() => c.get(id), "reading a deleted memory");
  const left = await c.getAll({ user_id: dave });
  check(left.length === 1, "dave's memory is untouched", left);
  return { sdk: `mem0ai@${version("mem0ai-v2")}`, ok: true };
}

try {
  for (const f of [v3, v2]) console.log(JSON.stringify(await f()));
} catch (e) {
  console.error(`mem0 SDK check failed: ${e.stack || e}`);
  process.exit(1);
}
