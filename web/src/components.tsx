import { Box, Callout, Flex, Spinner, Text } from "@radix-ui/themes";
import type { ReactNode } from "react";
import { ProblemError, problemLines, toProblem, type Problem } from "./lib/problem";

/** Shows a failed call: the problem's title and detail, and each field error. */
export function ProblemCallout({ error }: { error: unknown }) {
  const problem: Problem = error instanceof ProblemError ? error.problem : toProblem(error);
  return (
    <Callout.Root color="red" highContrast role="alert" data-testid="problem">
      <Callout.Text>
        <Text weight="bold">{problem.title}</Text>
        {problem.detail ? <> — {problem.detail}</> : null}
      </Callout.Text>
      {problemLines(problem).map((line) => (
        <Callout.Text key={line} size="1">{line}</Callout.Text>
      ))}
    </Callout.Root>
  );
}

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <Flex gap="2" align="center" role="status" aria-live="polite" p="4">
      <Spinner /> <Text color="gray">{label}…</Text>
    </Flex>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Box p="4">
      <Text color="gray" data-testid="empty">{children}</Text>
    </Box>
  );
}
