import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A page loaded on first use, so the chat page's first load carries only the chat's code (the 150 KB budget):
 * files, settings and admin come as their own chunks.
 */
export function lazyPage<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  return function LazyPage(props: P) {
    const [component, setComponent] = useState<ComponentType<P> | undefined>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      load().then(
        (module) => {
          loaded = module.default;
          setComponent(() => module.default);
        },
        () => setFailed(true),
      );
    }, []);
    if (failed)
      return (
        <main id="main" class="page">
          <h1>Could not load this page</h1>
          <p role="alert">The page could not be loaded. Check your connection and reload.</p>
        </main>
      );
    const Component = component;
    return Component ? (
      <Component {...props} />
    ) : (
      <main id="main" class="page" aria-busy="true">
        <p class="muted">Loading…</p>
      </main>
    );
  };
}
