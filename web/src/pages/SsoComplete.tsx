import { Button, Card, Container, Flex, Heading, Link as RadixLink, Text } from "@radix-ui/themes";
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import { useAuth } from "../auth";
import { ProblemCallout } from "../components";
import { codeFromFragment } from "../lib/sso";

/** Is where GET /v1/auth/sso/callback sends the browser (Sso:CompletionUrl): it trades the one-time code for a session with the HttpOnly
 *  refresh cookie, as a password sign-in does, so a reload or an access-token expiry keeps the user signed in through the refresh flow. */
export function SsoCompletePage() {
  const { status, completeSso } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  const started = useRef(false);

  useEffect(() => {
    // Wait for the session restore of the page load to settle, so that its answer cannot undo the new session.
    if (status === "restoring" || started.current) return;
    started.current = true;
    const code = codeFromFragment(window.location.hash);
    // The code works once: take it out of the address bar and the history at once.
    window.history.replaceState(null, "", window.location.pathname);
    if (!code) {
      setMissing(true);
      return;
    }
    completeSso(code).then(() => navigate("/", { replace: true }), setError);
  }, [status, completeSso, navigate]);

  const failed = missing || error !== null;
  return (
    <Container size="1" p="6">
      <Card size="3">
        <Flex direction="column" gap="3">
          <Heading size="5">{failed ? "Single sign-on did not complete" : "Signing you in…"}</Heading>
          {missing ? <Text role="alert">This page needs the sign-in code from your identity provider. Start the sign-in again.</Text> : null}
          {error ? <ProblemCallout error={error} /> : null}
          {failed ? (
            <Button asChild variant="soft"><Link to="/signin">Back to sign in</Link></Button>
          ) : (
            <Text size="2" color="gray">Completing the sign-in with your identity provider.</Text>
          )}
          {failed ? <Text size="2"><RadixLink asChild underline="always"><Link to="/signin">Sign in with a password</Link></RadixLink></Text> : null}
        </Flex>
      </Card>
    </Container>
  );
}
