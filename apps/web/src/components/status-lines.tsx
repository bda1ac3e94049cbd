/** What the last action did: a failure (read out at once) or a notice (read out when the reader is free). */
export function StatusLines({ error, notice }: { error?: string; notice?: string }) {
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
    </>
  );
}
