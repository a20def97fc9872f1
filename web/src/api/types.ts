import type { components } from "./schema";

export type Schemas = components["schemas"];
export type Me = Schemas["MeResponse"];
export type Membership = Schemas["MembershipResponse"];
export type Tenant = Schemas["TenantResponse"];
export type Member = Schemas["MemberResponse"];
export type Invitation = Schemas["InvitationResponse"];
export type Role = Membership["role"];
export const roles: Role[] = ["viewer", "member", "admin", "owner"];
