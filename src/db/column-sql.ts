/**
 * Column names for `sql` templates where a dialect wants them without their table, taken from the schema
 * (SQLite's or PostgreSQL's) so a renamed column fails the typecheck. The name is quoted by whichever
 * dialect renders the template.
 */
import { sql, type Column, type SQL } from 'drizzle-orm';

/** A column's bare name, where SQL wants no table in front (INSERT and ON CONFLICT column lists, SET). */
export const bare = (column: Column): SQL => sql`${sql.identifier(column.name)}`;

/** The value an `ON CONFLICT … DO UPDATE` would have written to `column` (`excluded.<column>`). */
export const excluded = (column: Column): SQL => sql`excluded.${bare(column)}`;
