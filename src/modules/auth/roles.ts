import type { Role } from '../../db/schema.js';

/** admin > staff > moderator > (member, family). */
const rank: Record<Role, number> = { member: 0, family: 0, moderator: 1, staff: 2, admin: 3 };

export const roleRank = (role: Role): number => rank[role];
export const isAtLeast = (role: Role, min: Role): boolean => rank[role] >= rank[min];
/** Global moderators, staff and admins may moderate every room they belong to. */
export const isGlobalModerator = (role: Role): boolean => rank[role] >= rank.moderator;
/** Staff and admins see the flag queue and audit log of every room. */
export const isStaff = (role: Role): boolean => rank[role] >= rank.staff;
