/**
 * The ctids of `table`'s rows whose `column` is one of the `id`s of the CTE `from`, found by one
 * key probe per id (`app` is the app id's SQL: `$1` or `p_app`). A statement then deletes or
 * updates them by ctid. Written as a condition over the batch instead (`id = ANY($2)`, or a join),
 * a generic plan made on an empty table reads the app's whole index range and checks every row
 * against the batch — for as long as the connection lives (test/plans.test.ts).
 */
export const rowsOfIds = (s: string, table: string, column: string, from: string, app: string) =>
  `SELECT x.tid FROM ${from} f CROSS JOIN LATERAL (
     SELECT t.ctid AS tid FROM ${s}.${table} t WHERE t.app_id = ${app} AND t.${column} = f.id OFFSET 0) x`

/** `DELETE` of the rows {@link rowsOfIds} finds, joined by ctid. */
export const deleteRowsOfIds = (s: string, table: string, column: string, from: string, app: string) =>
  `DELETE FROM ${s}.${table} g USING (${rowsOfIds(s, table, column, from, app)}) d WHERE g.ctid = d.tid`
