import { Container, Heading, Link as RadixLink, Text } from "@radix-ui/themes";
import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <Container size="1" px="4" py="9">
      <main>
        <Heading as="h1" size="6" mb="2">Page not found</Heading>
        <Text as="p">Nothing lives at this address. <RadixLink asChild underline="always"><Link to="/">Go to the dashboard</Link></RadixLink>.</Text>
      </main>
    </Container>
  );
}
