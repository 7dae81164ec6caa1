// Browser tests of the web UI against the real binary (see harness.mjs). Each scenario of
// issue 18's acceptance is one test; `UI_DOCS=1` also refreshes docs/ui-builder.png and
// docs/ui-runs.png from them.

import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { RESULTS, ROOT, TOKEN, check, eventually, run } from "./harness.mjs";

const SEED_NAME = "Auto-assign high-priority cases";
const docs = process.env.UI_DOCS === "1";
const state = {};

async function signIn(page, url, path = "/") {
  await page.goto(`${url}${path}${path.includes("?") ? "&" : "?"}token=${TOKEN}`);
  await page.getByRole("navigation", { name: "Main navigation" }).waitFor();
}

/** Every visible control has an accessible name (label, aria-label or text). */
async function checkLabels(page, where) {
  const unnamed = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll("input, select, textarea, button, a[href]")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (el.type === "hidden") continue;
      const named =
        el.getAttribute("aria-label") ||
        el.getAttribute("aria-labelledby") ||
        (el.labels && el.labels.length > 0) ||
        (["BUTTON", "A"].includes(el.tagName) && el.textContent.trim()) ||
        el.closest("label");
      if (!named) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
  check(unnamed.length === 0, `controls without a name on ${where}: ${unnamed.join(" | ")}`);
}

async function noHorizontalScroll(page, where) {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  check(scroll <= width + 1, `${where} scrolls sideways at ${width}px (content ${scroll}px)`);
}

const tests = [
  {
    name: "sign in",
    allowConsole: [/401/],
    async fn({ page, url }) {
      await page.goto(`${url}/`);
      await page.getByLabel("API token").fill("wrong-token");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").filter({ hasText: "401" }).waitFor();
      await page.getByLabel("API token").fill(TOKEN);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Automations" }).waitFor();
      // /?token= signs in and leaves the address bar clean.
      await page.evaluate(() => sessionStorage.clear());
      await page.goto(`${url}/tasks?token=${TOKEN}`);
      await page.getByRole("heading", { name: "Tasks" }).waitFor();
      check(!page.url().includes("token"), `token left in ${page.url()}`);
      // A token the server refuses returns to sign-in.
      await page.evaluate(() => sessionStorage.setItem("automations.token", "revoked"));
      await page.reload();
      await page.getByText("Sign in again").waitFor();
      await page.getByLabel("API token").waitFor();
    },
  },
  {
    name: "create the seed automation through the builder",
    async fn({ page, url, api }) {
      await api("POST", "/records/queue", { id: "q_escalations", name: "Escalations", email: "esc@example.com" });
      await signIn(page, url);
      await page.getByRole("button", { name: "New Automation" }).click();
      await page.getByLabel("Name").fill(SEED_NAME);
      await page.getByLabel("Description").fill("Critical cases go to the escalations queue and Slack");
      await page.getByRole("tab", { name: "Builder" }).click();
      await page.getByLabel("Trigger event").selectOption("case.created");
      await page.getByLabel("Condition", { exact: true }).fill('priority == "critical"');
      await page.getByLabel("Action type").selectOption("assign_to_queue");
      await page.getByRole("button", { name: "Add action" }).click();
      await page.getByLabel("queue_id").fill("q_escalations");
      // The other order: Add action first, then the type.
      await page.getByRole("button", { name: "Add action" }).click();
      await page.getByLabel("Action type").selectOption("send_notification");
      await page.getByLabel("channel").selectOption("slack");
      await page.getByLabel("message").fill("Critical case created");
      const nodes = page.locator(".react-flow__node");
      await eventually(async () => (await nodes.count()) === 4, "4 nodes (trigger, condition, 2 actions)");
      // Drag the last node aside: its position goes into the layout.
      const last = nodes.filter({ hasText: "send_notification" });
      await last.scrollIntoViewIfNeeded();
      const box = await last.boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 30, { steps: 8 });
      await page.mouse.up();
      await page.getByText("No problems found").waitFor();
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Saved as draft/).waitFor();
      await page.getByLabel("Status").selectOption("active");
      await page.getByText("Status is now active").waitFor();
      const id = page.url().split("/").at(-2);
      state.seedId = id;
      const stored = (await api("GET", `/automations/${id}`)).data;
      check(stored.status === "active", `status ${stored.status}`);
      const def = stored.definition;
      check(JSON.stringify(def.trigger) === JSON.stringify({ event: "case.created", conditions: { priority: "critical" } }), `trigger ${JSON.stringify(def.trigger)}`);
      check(
        JSON.stringify(def.actions) ===
          JSON.stringify([
            { type: "assign_to_queue", params: { queue_id: "q_escalations" } },
            { type: "send_notification", params: { channel: "slack", message: "Critical case created" } },
          ]),
        `actions ${JSON.stringify(def.actions)}`,
      );
      check(def.layout?.steps?.step_2, `layout ${JSON.stringify(def.layout)}`);
      // Keyboard: a focused node opens its form with Enter.
      await page.locator(".react-flow__node").filter({ hasText: "assign_to_queue" }).focus();
      await page.keyboard.press("Enter");
      await page.getByLabel("queue_id").waitFor();
      await page.locator(".react-flow__node").filter({ hasText: "send_notification" }).click();
      await page.getByLabel("channel").waitFor();
      if (docs) await page.locator(".builder").screenshot({ path: join(ROOT, "docs", "ui-builder.png") });
      await checkLabels(page, "the builder");
    },
  },
  {
    name: "a critical case shows a completed run with its steps",
    async fn({ page, url, api }) {
      check(state.seedId, "needs the seed automation");
      const made = await api("POST", "/records/case", { subject: "VPN down for the whole office", priority: "critical" });
      check(made.status === 201 || made.status === 200, `case ${made.status}`);
      await signIn(page, url, `/automations/${state.seedId}`);
      const row = page.locator("tr.run-row").filter({ hasText: "completed" }).first();
      await row.waitFor({ timeout: 15000 });
      check((await row.textContent()).includes("2 steps"), `row: ${await row.textContent()}`);
      check(/\d+(\.\d+)? (ms|s)/.test(await row.locator("td").nth(2).textContent()), "duration shown");
      await row.getByRole("button", { name: "Show steps" }).click();
      const steps = page.locator(".run-step");
      await eventually(async () => (await steps.count()) === 2, "2 steps");
      check((await steps.nth(0).textContent()).includes("assign_to_queue"), "step 1 is assign_to_queue");
      check((await steps.nth(1).textContent()).includes("send_notification"), "step 2 is send_notification");
      await steps.nth(0).getByText("Input, output and effects").click();
      await page.getByText("record.update").first().waitFor();
      // The list page shows the last run.
      if (docs) await page.screenshot({ path: join(ROOT, "docs", "ui-runs.png") });
      await page.getByRole("navigation", { name: "Main navigation" }).getByRole("link", { name: "Automations" }).click();
      await page.getByRole("row").filter({ hasText: SEED_NAME }).getByText("completed").waitFor();
      await page.getByLabel("Search by name").fill("nothing like it");
      await page.getByText("No automation matches the search.").waitFor();
      await checkLabels(page, "the automations page");
    },
  },
  {
    name: "typo diagnostic with a suggestion applied by a click",
    async fn({ page, url }) {
      await signIn(page, url, "/automations/new");
      // A new, empty definition already has its DSL text (and no console error).
      await page.getByRole("tab", { name: "DSL" }).click();
      await eventually(async () => (await page.getByLabel("DSL", { exact: true }).inputValue()).startsWith("automation"), "DSL of an empty definition");
      await page.getByRole("tab", { name: "Form" }).click();
      await page.getByLabel("Name").fill("Typo check");
      // The picker holds the schema's events, `<field>_changed` included.
      const events = await page.getByLabel("Trigger event").locator("option").allTextContents();
      for (const e of ["case.created", "case.priority_changed", "opportunity.stage_changed", "lead.deleted"]) {
        check(events.includes(e), `${e} in the trigger picker`);
      }
      await page.getByLabel("Trigger event").selectOption("case.created");
      const condition = page.getByLabel("Condition", { exact: true });
      await condition.fill('priorty == "critical"');
      const diagnostic = page.locator(".code-field .diagnostic").filter({ hasText: "E0101" });
      await diagnostic.waitFor();
      check((await diagnostic.textContent()).includes("priorty"), await diagnostic.textContent());
      await page.locator(".code-mirror mark").filter({ hasText: "priorty" }).waitFor();
      await diagnostic.getByRole("button", { name: "priority" }).click();
      check((await condition.inputValue()) === 'priority == "critical"', await condition.inputValue());
      await eventually(async () => (await page.locator(".code-field .diagnostic").filter({ hasText: "E0101" }).count()) === 0, "E0101 gone");
      await checkLabels(page, "the form");
    },
  },
  {
    name: "DSL tab edits the same definition",
    async fn({ page, url }) {
      check(state.seedId, "needs the seed automation");
      await signIn(page, url, `/automations/${state.seedId}/edit`);
      await page.getByRole("tab", { name: "DSL" }).click();
      const dsl = page.getByLabel("DSL", { exact: true });
      await eventually(async () => (await dsl.inputValue()).includes("when case.created"), "canonical DSL");
      const text = await dsl.inputValue();
      check(text.includes('if priority == "critical"'), text);
      await dsl.fill(text.replace("Critical case created", "Critical case, act now").replace('"critical"', '"high"'));
      await page.getByText("No problems found").waitFor();
      await page.waitForTimeout(300);
      await page.getByRole("tab", { name: "Form" }).click();
      check((await page.getByLabel("message").inputValue()) === "Critical case, act now", "message from the DSL");
      check((await page.getByLabel("Condition", { exact: true }).inputValue()) === 'priority == "high"', "condition from the DSL");
      await page.getByRole("tab", { name: "Builder" }).click();
      await page.locator(".react-flow__node").filter({ hasText: 'priority == "high"' }).waitFor();
      // A syntax error shows at its line without touching the definition.
      await page.getByRole("tab", { name: "DSL" }).click();
      await eventually(async () => (await dsl.inputValue()).includes('"high"'), "DSL from the form");
      await dsl.fill((await dsl.inputValue()).replace("when case.created", "when case.created if"));
      await page.locator(".diagnostic.error").first().waitFor();
    },
  },
  {
    name: "a stale save is a visible conflict",
    allowConsole: [/409/],
    async fn({ page, url, api }) {
      check(state.seedId, "needs the seed automation");
      await signIn(page, url, `/automations/${state.seedId}/edit`);
      await page.getByRole("tab", { name: "Form" }).click();
      await page.getByLabel("Name").waitFor();
      const current = (await api("GET", `/automations/${state.seedId}`)).data;
      const put = await api("PUT", `/automations/${state.seedId}`, { ...current.definition, description: "changed elsewhere" });
      check(put.status === 200, `put ${put.status}`);
      await page.getByLabel("Description").fill("my edit");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByRole("alert").filter({ hasText: "Conflict (409)" }).waitFor();
      const after = (await api("GET", `/automations/${state.seedId}`)).data;
      check(after.description === "changed elsewhere", "the other change was not overwritten");
    },
  },
  {
    name: "complete a human task from Tasks",
    allowConsole: [/409/],
    async fn({ page, url, api }) {
      const created = await api("POST", "/automations", {
        name: "Approve big cases",
        trigger: { event: "case.created", conditions: { origin: "phone" } },
        actions: [
          { id: "approval", type: "human_task", params: { title: "Approve {{ subject }}", queue: "q_escalations", form: { approved: "bool", notes: "string" } } },
          { type: "update_field", params: { field: "status", value: "escalated" }, condition: "steps.approval.output.approved" },
        ],
        status: "active",
      });
      check(created.status === 201, `automation ${created.status} ${JSON.stringify(created.data)}`);
      await api("POST", "/records/case", { subject: "Printer on fire", origin: "phone" });
      await api("POST", "/records/case", { subject: "Second printer", origin: "phone" });
      await signIn(page, url, "/tasks");
      const card = page.locator("form.task").filter({ hasText: "Approve Printer on fire" });
      await card.waitFor({ timeout: 15000 });
      await card.getByLabel("approved").check();
      await card.getByLabel("notes").fill("go ahead");
      await card.getByRole("button", { name: "Complete" }).click();
      await card.getByText("Task completed").waitFor();
      await card.locator(".notice .badge").filter({ hasText: "completed" }).waitFor();
      // The other task is completed elsewhere first: the UI shows the 409.
      const second = page.locator("form.task").filter({ hasText: "Approve Second printer" });
      const tasks = (await api("GET", "/tasks?status=open")).data.items;
      const other = tasks.find((t) => t.title === "Approve Second printer");
      check(other, "second task open");
      const done = await api("POST", `/tasks/${other.id}/complete`, { output: { approved: false, notes: "no" } });
      check(done.status === 200, `api completion ${done.status}`);
      await second.getByRole("button", { name: "Complete" }).click();
      await second.getByRole("alert").filter({ hasText: "Conflict (409)" }).waitFor();
      // A waiting run is cancelled from the automation's run history.
      await api("POST", "/records/case", { subject: "Third printer", origin: "phone" });
      await page.goto(`${url}/automations/${created.data.id}`);
      const waiting = page.locator("tr.run-row").filter({ hasText: "waiting" }).first();
      await waiting.waitFor({ timeout: 15000 });
      await waiting.getByRole("button", { name: "Show steps" }).click();
      await page.getByRole("button", { name: "Cancel" }).click();
      await page.locator(".run .facts .badge").filter({ hasText: "cancelled" }).waitFor();
      // The completed run shows what its guarded second step decided.
      await page.getByLabel("Run status").selectOption("completed");
      const finished = page.locator("tr.run-row").filter({ hasText: "completed" });
      await eventually(async () => (await finished.count()) === 2, "two completed runs");
      await finished.first().getByRole("button", { name: "Show steps" }).click();
      await page.getByText("Runs only when").first().waitFor();
      // Newest first: the second printer's task said approved = false.
      check((await page.locator(".run-step").nth(1).textContent()).includes("skipped"), "the guard was false");
      await checkLabels(page, "tasks");
    },
  },
  {
    name: "sandbox dry run, test and promote",
    async fn({ page, url, api }) {
      const created = await api("POST", "/automations", {
        name: "Sandbox welcome",
        environment: "sandbox",
        trigger: { event: "case.created", conditions: { origin: "chat" } },
        actions: [{ type: "update_field", params: { field: "status", value: "open" } }],
        status: "active",
      });
      check(created.status === 201, `automation ${created.status} ${JSON.stringify(created.data)}`);
      await signIn(page, url, "/sandbox");
      const toggle = page.getByRole("switch", { name: "Sandbox" });
      check(!(await toggle.isChecked()), "sandbox starts off");
      await toggle.check({ force: true });
      await page.getByText("On: sandbox automations run in dry-run").waitFor();
      const made = await api("POST", "/records/case", { subject: "Chat about billing", origin: "chat" });
      const history = page.getByRole("table", { name: "Sandbox welcome runs" });
      const row = history.locator("tr.run-row").filter({ hasText: "completed" }).first();
      await row.waitFor({ timeout: 15000 });
      check((await row.textContent()).includes("dry-run"), "dry-run badge");
      await row.getByRole("button", { name: "Show steps" }).click();
      await page.getByText("Input, output and effects").first().click();
      await page.getByText("not applied (dry-run)").first().waitFor();
      const record = (await api("GET", `/records/case/${made.data.id}`)).data;
      check(record.status !== "open", "a dry run changes nothing");
      // Test on a chosen record.
      await page.getByLabel("Automation to test").selectOption({ label: "Sandbox welcome (sandbox, case.created)" });
      await page.getByLabel("Record", { exact: true }).selectOption(made.data.id);
      await page.getByRole("button", { name: "Run test" }).click();
      await page.getByLabel("Test result").getByText("Matched").waitFor();
      // A record written by hand that does not match: the clause and the value it saw.
      await page.getByLabel("Record", { exact: true }).selectOption("");
      await page.getByLabel("Record fields (JSON)").fill('{"origin": "email", "subject": "x"}');
      await page.getByRole("button", { name: "Run test" }).click();
      await page.getByLabel("Test result").getByText("Did not match").waitFor();
      await page.getByText('origin = "email"').waitFor();
      await page.getByRole("button", { name: "Promote Sandbox welcome" }).click();
      await page.getByText(/Promoted: .* is live/).waitFor();
      await checkLabels(page, "the sandbox");
    },
  },
  {
    name: "why an automation did not run on a record, and the shadow diff beside Promote",
    async fn({ page, url, api }) {
      const live = await api("POST", "/automations", {
        name: "Big deals",
        trigger: { event: "opportunity.created", conditions: "amount > 1000" },
        actions: [{ type: "notify_user", params: { user_id: "u_sales", message: "big deal" } }],
        status: "active",
      });
      check(live.status === 201, `automation ${live.status}`);
      // Copy it to the sandbox from its page; the copy opens.
      await signIn(page, url, `/automations/${live.data.id}`);
      await page.getByRole("button", { name: "Copy to sandbox" }).click();
      await eventually(async () => !page.url().endsWith(live.data.id), "the copy's page");
      const copyId = page.url().split("/").pop();
      const copy = (await api("GET", `/automations/${copyId}`)).data;
      check(copy.environment === "sandbox" && copy.shadows_id === live.data.id, `copy ${JSON.stringify(copy)}`);
      // Raise the copy's threshold, switch the sandbox on, write two deals.
      const definition = { ...copy.definition, trigger: { ...copy.definition.trigger, conditions: "amount > 5000" } };
      const put = await api("PUT", `/automations/${copyId}`, definition);
      check(put.status === 200, `edit ${put.status}`);
      await api("POST", "/sandbox/activate");
      const small = await api("POST", "/records/opportunity", { name: "small", amount: 10 });
      await api("POST", "/records/opportunity", { name: "middle", amount: 3000 });
      // The record's automation log: the failing clause with the value seen.
      await page.goto(`${url}/records/opportunity/${small.data.id}`);
      const log = page.getByLabel("Automation log");
      await log.getByText(/amount > 1000 was false \(saw .*amount = 10\)/).first().waitFor();
      await checkLabels(page, "the automation log");
      await page.screenshot({ path: join(RESULTS, "automation-log.png"), fullPage: true });
      // The shadow diff beside Promote: the middle deal matched live only.
      await page.getByRole("link", { name: "Sandbox" }).click();
      await page.getByRole("button", { name: "Compare Big deals with live" }).click();
      const diff = page.getByLabel("Shadow diff of Big deals");
      await diff.getByText(/^1 of 1 events differ/).waitFor();
      await diff.getByText("Live matched, the sandbox copy did not").waitFor();
      await checkLabels(page, "the sandbox with a shadow diff");
    },
  },
  {
    name: "retry a failed run from its history",
    async fn({ page, url, api }) {
      const created = await api("POST", "/automations", {
        name: "Touch a missing case",
        trigger: { event: "lead.created" },
        actions: [{ type: "update_record", params: { object: "case", id: "no_such_case", fields: { status: "open" } } }],
        status: "active",
      });
      check(created.status === 201, `automation ${created.status}`);
      await api("POST", "/records/lead", { last_name: "Lovelace" });
      await signIn(page, url, `/automations/${created.data.id}`);
      await page.getByLabel("Run status").selectOption("failed");
      const row = page.locator("tr.run-row").filter({ hasText: "failed" }).first();
      await row.waitFor({ timeout: 15000 });
      await row.getByRole("button", { name: "Show steps" }).click();
      await page.getByText("record not found: no_such_case").first().waitFor();
      const before = (await api("GET", `/automations/${created.data.id}/runs`)).data.items[0];
      await page.getByRole("button", { name: "Retry" }).click();
      // The retried run fails again at the same step (the case still does not exist).
      await eventually(async () => {
        const run = (await api("GET", `/automations/${created.data.id}/runs/${before.id}`)).data;
        return run.status === "failed" && run.finished_at !== before.finished_at;
      }, "the retried step to run again");
    },
  },
  {
    name: "backtest an automation on past events",
    allowConsole: [/400/],
    async fn({ page, url, api }) {
      // Past events first: three accounts, two of them gold. The automation is a draft, so
      // nothing runs live; the backtest replays the history.
      // A tag of this run's accounts keeps the counts right on a reused database (E2E_URL).
      const industry = `backtest-${Date.now()}`;
      for (const [name, tier] of [["Acme", "gold"], ["Globex", "silver"], ["Initech", "gold"]]) {
        const made = await api("POST", "/records/account", { name, tier, industry });
        check(made.status === 201, `account ${name}: ${made.status}`);
      }
      const created = await api("POST", "/automations", {
        name: "Gold accounts to platinum",
        trigger: { event: "account.created", conditions: `tier == "gold" and industry == "${industry}"` },
        actions: [{ type: "update_field", params: { field: "tier", value: "platinum" } }],
      });
      check(created.status === 201, `automation ${created.status}`);
      await signIn(page, url, `/automations/${created.data.id}`);
      const form = page.getByRole("form", { name: "Backtest settings" });
      // A range the server refuses: its 400 message beside the form.
      await form.getByLabel("Range").selectOption("custom");
      await form.getByLabel("From", { exact: true }).fill("2026-01-02T10:00");
      await form.getByLabel("To", { exact: true }).fill("2026-01-01T10:00");
      await form.getByRole("button", { name: "Run backtest" }).click();
      await page.getByRole("alert").filter({ hasText: /400 .*the range is empty/ }).waitFor();
      // The last 24 hours: every account.created event considered, the 2 gold ones matched,
      // one effect row.
      await form.getByLabel("Range").selectOption("24h");
      await form.getByLabel("Event limit").fill("100");
      await form.getByLabel("Version to replay").selectOption("draft");
      await form.getByRole("button", { name: "Run backtest" }).click();
      const result = page.getByLabel("Backtest result");
      const accounts = (await api("GET", "/records/account?limit=200")).data.items.length;
      await result.getByText(`2 of ${accounts} events matched`).waitFor({ timeout: 20000 });
      await result.getByText("2 runs: 2 completed").waitFor();
      const effect = page.getByRole("table", { name: "Backtest effects" }).getByRole("row").filter({ hasText: "account.tier" });
      await effect.getByText("record.update").waitFor();
      await effect.getByText('"platinum" ×2').waitFor();
      // A sample run explains why it matched; nothing was applied.
      const samples = page.getByRole("list", { name: "Sample runs" });
      await samples.locator("summary").first().click();
      await samples.getByText(/tier == "gold"/).first().waitFor();
      check((await samples.locator(":scope > li").count()) === 2, "two sample runs");
      const gold = (await api("GET", "/records/account?limit=200")).data.items.filter((a) => a.tier === "platinum");
      check(gold.length === 0, `a backtest wrote ${gold.length} records`);
      const runs = (await api("GET", `/automations/${created.data.id}/runs`)).data.items;
      check(runs.length === 0, `a backtest made ${runs.length} runs`);
      await checkLabels(page, "the backtest panel");
    },
  },
  {
    name: "phone layout",
    viewport: { width: 390, height: 844 },
    async fn({ page, url }) {
      check(state.seedId, "needs the seed automation");
      await signIn(page, url);
      await page.getByRole("link", { name: SEED_NAME }).waitFor();
      await noHorizontalScroll(page, "the automations page");
      await page.screenshot({ path: join(RESULTS, "phone-automations.png"), fullPage: true });
      await page.getByRole("link", { name: SEED_NAME }).click();
      await page.locator("tr.run-row").first().waitFor();
      await noHorizontalScroll(page, "the detail page");
      await page.screenshot({ path: join(RESULTS, "phone-detail.png"), fullPage: true });
      await page.getByRole("link", { name: "Edit" }).click();
      await page.getByRole("tab", { name: "Builder" }).click();
      await page.locator(".react-flow__node").first().waitFor();
      await noHorizontalScroll(page, "the builder");
      await page.screenshot({ path: join(RESULTS, "phone-builder.png"), fullPage: true });
      // Keyboard: the main navigation is reachable with Tab.
      await page.keyboard.press("Tab");
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => document.activeElement?.textContent);
      check(focused && focused.length > 0, "a control has focus after Tab");
    },
  },
  {
    name: "long lists page with the API cursors",
    async fn({ page, url, api }) {
      for (let i = 0; i < 30; i += 1) {
        const made = await api("POST", "/automations", {
          name: `Bulk ${String(i).padStart(2, "0")}`,
          trigger: { event: "lead.created" },
          actions: [{ type: "update_field", params: { field: "status", value: "working" } }],
        });
        check(made.status === 201, `bulk ${i}: ${made.status}`);
      }
      const total = (await api("GET", "/automations?limit=500")).data.items.length;
      await signIn(page, url);
      const rows = page.locator("table.list tbody tr");
      await eventually(async () => (await rows.count()) === 25, "a first page of 25");
      await page.getByRole("button", { name: "Load more" }).click();
      await eventually(async () => (await rows.count()) === Math.min(total, 50), `${Math.min(total, 50)} rows`);
      await page.getByLabel("Status filter").selectOption("active");
      await eventually(async () => (await rows.filter({ hasText: "Bulk" }).count()) === 0, "drafts filtered out");
    },
  },
];

await run(tests);
if (docs) {
  // Keep a copy beside the other results too.
  copyFileSync(join(ROOT, "docs", "ui-builder.png"), join(RESULTS, "docs-ui-builder.png"));
}
