/**
 * Real-shaped Telegram updates (as the Bot API sends them) for feeding the loopback server: messages with
 * `bot_command` entities, anonymous-admin and channel posts, callback queries, `my_chat_member` changes,
 * group → supergroup migrations, stickers and edits. `update_id` is assigned by the server.
 */

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
}

export interface TgChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
  first_name?: string;
  username?: string;
  is_forum?: boolean;
}

export const alice: TgUser = { id: 5001, is_bot: false, first_name: 'Alice', username: 'alice' };
export const bob: TgUser = { id: 5002, is_bot: false, first_name: 'Bob <b>&', username: 'bob' };
export const anonymousAdminBot: TgUser = {
  id: 1087968824,
  is_bot: true,
  first_name: 'Group',
  username: 'GroupAnonymousBot',
};

export const supergroup: TgChat = { id: -1001234567890, type: 'supergroup', title: 'OPG Traders' };
export const forum: TgChat = { id: -1009876543210, type: 'supergroup', title: 'OPG Forum', is_forum: true };
export const basicGroup: TgChat = { id: -4012345678, type: 'group', title: 'OPG Friends' };
export const channel: TgChat = { id: -1005555555555, type: 'channel', title: 'OPG News' };
export const privateWith = (user: TgUser): TgChat => ({
  id: user.id,
  type: 'private',
  first_name: user.first_name,
  ...(user.username ? { username: user.username } : {}),
});

let nextMessageId = 1000;
const DATE = 1_795_000_000;

export interface MessageInit {
  chat: TgChat;
  text?: string;
  from?: TgUser;
  senderChat?: TgChat;
  threadId?: number;
  messageId?: number;
  extra?: Record<string, unknown>;
}

/** A message as Telegram sends it; a leading `/word` (with `@bot` if any) becomes a `bot_command` entity. */
export function message(init: MessageInit): Record<string, unknown> {
  const { chat, text } = init;
  const command = text ? /^\/[A-Za-z0-9_]+(@\w+)?/.exec(text) : null;
  return {
    message_id: init.messageId ?? nextMessageId++,
    date: DATE,
    chat,
    ...(chat.type !== 'channel' ? { from: init.from ?? alice } : {}),
    ...(init.senderChat ? { sender_chat: init.senderChat } : {}),
    ...(init.threadId !== undefined ? { message_thread_id: init.threadId, is_topic_message: true } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
    ...init.extra,
  };
}

export const messageUpdate = (init: MessageInit) =>
  init.chat.type === 'channel' ? { channel_post: message(init) } : { message: message(init) };

export const editedMessageUpdate = (init: MessageInit) => ({
  edited_message: { ...message(init), edit_date: DATE + 60 },
});

export const stickerUpdate = (chat: TgChat, from: TgUser = alice) => ({
  message: message({
    chat,
    from,
    extra: {
      sticker: {
        file_id: 'CAACAgIAAxkBAAEBsticker',
        file_unique_id: 'AgADsticker',
        type: 'regular',
        width: 512,
        height: 512,
        is_animated: false,
        is_video: false,
        emoji: '🚀',
      },
    },
  }),
});

export function callbackUpdate(init: { from: TgUser; message: Record<string, unknown>; data: string; id?: string }) {
  return {
    callback_query: {
      id: init.id ?? `cb-${nextMessageId++}`,
      from: init.from,
      message: init.message,
      chat_instance: '-42',
      data: init.data,
    },
  };
}

export function myChatMemberUpdate(init: {
  chat: TgChat;
  from: TgUser;
  status: 'left' | 'kicked' | 'member' | 'administrator';
  botId: number;
}) {
  const bot = { id: init.botId, is_bot: true, first_name: 'OPG Bot', username: 'opg_test_bot' };
  return {
    my_chat_member: {
      chat: init.chat,
      from: init.from,
      date: DATE,
      old_chat_member: { status: 'member', user: bot },
      new_chat_member:
        init.status === 'kicked' ? { status: 'kicked', user: bot, until_date: 0 } : { status: init.status, user: bot },
    },
  };
}

/** The pair Telegram sends when a group becomes a supergroup: one in the old group, one in the new. */
export function migrationUpdates(from: TgChat, to: TgChat, by: TgUser = alice) {
  return [
    { message: { message_id: nextMessageId++, date: DATE, chat: from, from: by, migrate_to_chat_id: to.id } },
    { message: { message_id: 1, date: DATE, chat: to, from: by, migrate_from_chat_id: from.id } },
  ];
}
