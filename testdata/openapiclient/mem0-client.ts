// A client of Engram's mem0-compatible routes (docs/openapi-mem0.yaml),
// typed only by what openapi-typescript generates from the served OpenAPI
// document: add, search with filters, list, get, update, history, delete,
// with a project key acting for a user_id.
import createClient from "openapi-fetch";
import type { paths, components } from "./generated/engram.js";

type Mem0Memory = components["schemas"]["Mem0Memory"];

export async function mem0Flow(baseUrl: string, key: string): Promise<string[]> {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Token ${key}` } });
  const out: string[] = [];

  const added = await client.POST("/v3/memories/add", {
    body: {
      messages: [{ role: "user", content: "I drink green tea every morning" }],
      user_id: "alice",
      agent_id: "tea-bot",
      metadata: { source: "chat", turn: 1 },
      infer: false,
    },
  });
  if (added.error) throw new Error(added.error.detail);
  for (const ev of added.data.results) out.push(`${ev.id} ${ev.event} ${ev.memory}`);

  const found = await client.POST("/v3/memories/search", {
    body: { query: "tea", filters: { AND: [{ user_id: "alice" }, { agent_id: { in: ["tea-bot"] } }] }, top_k: 5, threshold: 0.1 },
  });
  if (found.error) throw new Error(found.error.detail);
  for (const m of found.data.results) {
    const text: string = m.memory;
    const score: number | undefined = m.score;
    const agent: string | null = m.agent_id;
    out.push(`${text} ${score} ${agent}`);
  }

  const page = await client.POST("/v3/memories", {
    params: { query: { page: 1, page_size: 50 } },
    body: { filters: { user_id: "alice" } },
  });
  if (page.error) throw new Error(page.error.detail);
  const count: number = page.data.count;
  const next: string | null = page.data.next;
  const first: Mem0Memory | undefined = page.data.results[0];
  out.push(`${count} ${next}`);
  if (first === undefined) return out;

  const got = await client.GET("/v1/memories/{id}", { params: { path: { id: first.id } } });
  if (got.error) throw new Error(got.error.detail);
  const meta: unknown = got.data.metadata?.["source"];
  out.push(String(meta));

  const updated = await client.PUT("/v1/memories/{id}", {
    params: { path: { id: first.id } },
    body: { text: "I drink oolong tea every morning", metadata: { source: "edit" } },
  });
  if (updated.error) throw new Error(updated.error.detail);
  out.push(updated.data.memory);

  const history = await client.GET("/v1/memories/{id}/history", { params: { path: { id: first.id } } });
  if (history.error) throw new Error(history.error.detail);
  for (const h of history.data) {
    const before: string | null = h.old_memory;
    out.push(`${h.event} ${before} ${h.new_memory}`);
  }

  const deleted = await client.DELETE("/v1/memories/{id}", { params: { path: { id: first.id } } });
  if (deleted.error) throw new Error(deleted.error.detail);
  out.push(deleted.data.message);

  const all = await client.GET("/v1/memories", { params: { query: { user_id: "alice" } } });
  if (all.error) throw new Error(all.error.detail);
  return out;
}
