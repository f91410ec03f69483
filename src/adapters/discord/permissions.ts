/**
 * Discord permissions as the bot checks them itself: `default_member_permissions` only hides a command in
 * the client, so a moderator command is refused here unless the member's own bit field (a decimal string
 * in every payload) has Manage Server or Administrator.
 */
import { PermissionFlagsBits, PermissionsBitField } from 'discord.js';

/** What a channel must allow for the bot to post an alert there, with the names Discord's UI uses. */
export const POST_PERMISSIONS: ReadonlyArray<{ bit: bigint; label: string }> = [
  { bit: PermissionFlagsBits.ViewChannel, label: 'View Channel' },
  { bit: PermissionFlagsBits.SendMessages, label: 'Send Messages' },
  { bit: PermissionFlagsBits.EmbedLinks, label: 'Embed Links' },
  { bit: PermissionFlagsBits.AttachFiles, label: 'Attach Files' },
];

/** Manage Server or Administrator. */
export function isModeratorBits(permissions: bigint): boolean {
  return new PermissionsBitField(permissions).any(
    [PermissionFlagsBits.Administrator, PermissionFlagsBits.ManageGuild],
    false,
  );
}

/** The labels of the post permissions `permissions` lacks; none when it has Administrator. */
export function missingPostPermissions(permissions: bigint): string[] {
  const field = new PermissionsBitField(permissions);
  if (field.has(PermissionFlagsBits.Administrator, false)) return [];
  return POST_PERMISSIONS.filter((p) => !field.has(p.bit, false)).map((p) => p.label);
}
