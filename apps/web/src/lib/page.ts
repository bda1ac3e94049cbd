import { useEffect, useRef } from 'preact/hooks';

let firstPage = true;

/**
 * Sets the document title and, after a client-side navigation, moves focus to the page's heading, so a screen reader
 * announces where the person now is (a full page load starts at the top anyway).
 */
export function usePage(title: string) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · GigaChat`;
  }, [title]);
  useEffect(() => {
    if (firstPage) {
      firstPage = false;
      return;
    }
    heading.current?.focus({ preventScroll: false });
  }, []);
  return heading;
}
