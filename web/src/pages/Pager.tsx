import { useEffect, useRef, type ReactNode } from "react";
import { Button, Flex, Text } from "@radix-ui/themes";
import { nextPage, pageNumber, previousPage, type CursorTrail } from "../lib/paging";

/** Steps through a cursor-paged list: Previous pops the trail, Next follows the API's next_cursor. */
export function Pager({ trail, nextCursor, onChange, label }: { trail: CursorTrail; nextCursor: string | null | undefined; onChange(t: CursorTrail): void; label: string }) {
  return (
    <Flex asChild gap="3" align="center" justify="end">
      <nav aria-label={`${label} pages`}>
        <Button variant="soft" disabled={trail.before.length === 0} onClick={() => onChange(previousPage(trail))}>Previous</Button>
        <Text size="2" color="gray" data-testid="page-number">Page {pageNumber(trail)}</Text>
        <Button variant="soft" disabled={!nextCursor} onClick={() => onChange(nextPage(trail, nextCursor))}>Next</Button>
      </nav>
    </Flex>
  );
}

/**
 * Wraps a Radix table so that its horizontal scroll area (narrow screens) is reachable by keyboard even when no cell holds a link or a
 * button: the viewport gets a tab stop and the table's name (axe's scrollable-region-focusable).
 */
export function KeyboardScroll({ label, children }: { label: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelectorAll<HTMLElement>(".rt-ScrollAreaViewport").forEach((viewport) => {
      viewport.tabIndex = 0;
      viewport.setAttribute("role", "region");
      viewport.setAttribute("aria-label", label);
    });
  });
  return <div ref={ref}>{children}</div>;
}
