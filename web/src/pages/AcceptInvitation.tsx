import { Button, Card, Container, Flex, Heading, Text } from "@radix-ui/themes";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "../api/client";
import { ProblemCallout } from "../components";
import { TopBar, useMe } from "./Shell";

/** Opens from the invitation email's link (/invitations/accept?token=...): the signed-in user joins the tenant. */
export function AcceptInvitationPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const navigate = useNavigate();
  const queries = useQueryClient();
  const me = useMe();
  const accept = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/invitations/accept", { body: { token } })),
    onSuccess: async (membership) => {
      await queries.invalidateQueries({ queryKey: ["me"] });
      navigate(`/t/${membership.tenant_id}`, { replace: true });
    },
  });
  return (
    <>
      <TopBar />
      <Container size="1" px="4" py="6">
        <main>
          <Card size="3">
            <Flex direction="column" gap="3">
              <Heading as="h1" size="6">Join a tenant</Heading>
              {!token ? <ProblemCallout error={{ title: "No invitation", detail: "This link has no invitation token; open the link of the email again." }} /> : (
                <>
                  <Text>You were invited to a tenant. Accept as <Text weight="bold">{me.data?.user.email ?? "…"}</Text>?</Text>
                  {accept.isError ? <ProblemCallout error={accept.error} /> : null}
                  <Button onClick={() => accept.mutate()} loading={accept.isPending}>Accept invitation</Button>
                </>
              )}
            </Flex>
          </Card>
        </main>
      </Container>
    </>
  );
}
