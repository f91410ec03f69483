import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL store's migrations (`npm run db:generate` runs this beside `drizzle.config.ts`). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg-schema/*.ts',
  out: './drizzle-pg',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://localhost:5432/opg_bot' },
});
