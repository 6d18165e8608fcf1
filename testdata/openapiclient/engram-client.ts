// A client of Engram's own API, typed only by what openapi-typescript
// generates from the served OpenAPI document (generated/engram.d.ts, written
// by adapters/httpapi's TestGeneratedClientsTypeCheck). tsc --strict must
// accept it: a schema too loose or too narrow for what a client sends or
// reads (metadata values, a search hit's memory) fails the check.
import createClient from "openapi-fetch";
import type { paths, components } from "./generated/engram.js";

type Memory = components["schemas"]["Memory"];

export async function addListSearch(baseUrl: string, token: string): Promise<string[]> {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

  // Metadata holds any JSON value.
  const added = await client.POST("/api/v1/memories", {
    body: {
      text: "Prefers window seats on long flights",
      app: "travel-app",
      agent_id: "travel-agent",
      run_id: "run-1",
      categories: ["travel"],
      metadata: { source: "chat", turn: 3, confirmed: true, tags: ["seat", "flight"], extra: { nested: null } },
      ttl: 3600,
    },
  });
  if (added.error) throw new Error(added.error.title);
  // 201 is the memory; 202 (infer: true with a model) is an inference event.
  if ("event_id" in added.data) throw new Error("inference event " + added.data.event_id);
  const memory: Memory = added.data;
  const source: unknown = memory.metadata["source"];
  const agent: string | undefined = memory.agent_id;

  const listed = await client.GET("/api/v1/memories", {
    params: { query: { limit: 10, state: ["active"], category: ["travel"] } },
  });
  if (listed.error) throw new Error(listed.error.title);
  const texts: string[] = listed.data.items.map((m: Memory) => m.text);
  const next: string | null = listed.data.next_cursor;
  if (next !== null) {
    await client.GET("/api/v1/memories", { params: { query: { cursor: next } } });
  }

  const found = await client.POST("/api/v1/search", {
    body: {
      query: "window seat",
      limit: 5,
      min_similarity: 0.2,
      filters: { AND: [{ agent_id: "travel-agent" }, { "metadata.source": { in: ["chat", "mail"] } }] },
    },
  });
  if (found.error) throw new Error(found.error.title);
  for (const hit of found.data.results) {
    const text: string = hit.memory.text;
    const id: string = hit.memory.id;
    const similarity: number = hit.similarity;
    const score: number = hit.score;
    texts.push(`${id} ${text} ${similarity} ${score}`);
  }
  return [String(source), String(agent), ...texts];
}
