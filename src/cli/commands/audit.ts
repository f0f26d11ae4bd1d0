/**
 * `audit` lists the admin audit trail; `audit verify` downloads every record kept and
 * recomputes the hash chain HERE, trusting nothing the server says about it, and names the
 * first record altered, removed or reordered (exit code 4).
 */
import type { Command } from "commander";
import type { AuditPage } from "../../audit/audit-log.js";
import type { AuditRecord } from "../../audit/types.js";
import { type AuditVerification, verifyAuditChain } from "../../audit/verify.js";
import { Context, examples, type Io, intIn } from "../context.js";
import { CliError, ExitCode } from "../errors.js";
import { formatTime, type Style, table } from "../format.js";

/** Exit code of `audit verify` when the chain is broken. */
export const AUDIT_BROKEN_EXIT_CODE = ExitCode.auditBroken;

interface ListFlags {
  limit?: number;
  before?: number;
}

/** Adds `audit` and `audit verify` to `program`. */
export function registerAuditCommands(program: Command, io: Io): void {
  const audit = program
    .command("audit")
    .description("The audit trail: every admin write (who, what, when, outcome), newest first")
    .option("--limit <n>", "records per page, 1 to 1000 (server default 50)", intIn(1, 1000))
    .option("--before <seq>", "records older than this seq (a previous page's next)", intIn(0))
    .addHelpText(
      "after",
      examples(["taskmill audit", "taskmill audit --limit 200 --json", "taskmill audit verify"]),
    )
    .action(async (flags: ListFlags, cmd) => {
      const ctx = Context.of(cmd, io);
      const page = await ctx.client.request<AuditPage>("GET", "/v1/audit", {
        query: { limit: flags.limit, before: flags.before },
      });
      ctx.print(page, () =>
        page.records.length === 0 ? "No audit records." : formatAudit(page.records, ctx.style),
      );
      if (!ctx.json && page.next !== undefined)
        ctx.note(`More records: add --before ${page.next}.`);
    });

  audit
    .command("verify")
    .description(
      `Recompute the hash chain of every record kept; exit code ${AUDIT_BROKEN_EXIT_CODE} and the first bad record if it is broken`,
    )
    .action(async (_flags: unknown, cmd) => {
      const ctx = Context.of(cmd, io);
      const records: AuditRecord[] = [];
      let first: AuditPage | undefined;
      let after = 0;
      for (;;) {
        const page = await ctx.client.request<AuditPage>("GET", "/v1/audit", {
          query: { after, limit: 1000 },
        });
        first ??= page;
        records.push(...page.records);
        if (page.next === undefined || page.next <= after) break;
        after = page.next;
      }
      const ends = first as AuditPage;
      const result = verifyAuditChain(records, ends.anchor, ends.head);
      ctx.print(result, () => formatVerification(result, ctx.style));
      if (!result.ok)
        throw new CliError(AUDIT_BROKEN_EXIT_CODE, `audit trail broken: ${result.message}`);
    });
}

function formatAudit(records: readonly AuditRecord[], style: Style): string {
  return table<AuditRecord>(
    [
      { header: "SEQ", value: (r) => String(r.seq), align: "right" },
      { header: "AT", value: (r) => formatTime(r.at) },
      { header: "WHO", value: (r) => (r.actor ? `${r.actor.name ?? "-"} (${r.actor.role})` : "-") },
      { header: "ROUTE", value: (r) => `${r.method} ${r.route}` },
      {
        header: "TARGETS",
        value: (r) =>
          [
            ...(r.targets ?? []),
            ...Object.entries(r.filter ?? {}).map(([key, value]) => `${key}=${value}`),
          ].join(",") || "-",
      },
      {
        header: "OUTCOME",
        value: (r) => `${r.outcome} ${r.status}${r.error ? ` ${r.error}` : ""}`,
      },
      { header: "CLIENT", value: (r) => r.client ?? "-" },
      { header: "REQUEST", value: (r) => r.requestId },
    ],
    records,
    style,
  );
}

function formatVerification(result: AuditVerification, style: Style): string {
  const span =
    result.head.seq > result.anchor.seq
      ? `records ${result.anchor.seq + 1} to ${result.head.seq}`
      : "no records";
  return result.ok
    ? style.status("succeeded", `ok: ${result.records} records verified (${span})`)
    : style.status("failed", `BROKEN: ${result.message} (${result.records} records read, ${span})`);
}
