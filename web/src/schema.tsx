// The workspace schema (objects, events, custom events, built-in actions) and its plugins,
// loaded once per sign-in and shared by the editor, the builder and the sandbox.

import { createContext, useContext } from "react";
import { get } from "./api";
import { Schema } from "./model/types";

export interface PluginInfo {
  name: string;
  versions: string[];
  latest: string;
  description: string;
  requested: string[];
  granted: string[];
}

export interface Catalog {
  schema: Schema;
  plugins: PluginInfo[];
}

export async function loadCatalog(): Promise<Catalog> {
  const [schema, plugins] = await Promise.all([
    get<Schema>("/schema"),
    get<{ items: PluginInfo[] }>("/plugins?limit=500").catch(() => ({ items: [] as PluginInfo[] })),
  ]);
  if (!schema.events || !schema.actions) {
    throw new Error("This server's GET /api/v1/schema has no events or actions: it is older than this UI.");
  }
  return { schema: { ...schema, custom_events: schema.custom_events ?? [] }, plugins: plugins.items ?? [] };
}

export const CatalogContext = createContext<Catalog | null>(null);

export function useCatalog(): Catalog {
  const catalog = useContext(CatalogContext);
  if (!catalog) throw new Error("catalog not loaded");
  return catalog;
}

/** The object an event is about (`case.created` -> `case`), none for custom events. */
export function eventObject(event: string): string | null {
  const [object] = event.split(".");
  return object && object !== "custom" ? object : null;
}
