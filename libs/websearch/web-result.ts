/** One web search hit, as handed to the model. */
export interface WebResult {
  title: string;
  /** Always http(s). */
  url: string;
  /** Trimmed text of the hit; may be empty. */
  snippet: string;
  /** The engine SearxNG got it from, e.g. `duckduckgo`. */
  engine?: string;
}
