// The form view of the steps: one card per step, nested for if/else branches, with
// move up/down and delete.

import { StepLoc, ListPath, deleteStep, insertStep, moveStep, newStep, replaceStep } from "../model/definition";
import { useCatalog } from "../schema";
import { stepTitle } from "../model/graph";
import { Definition, Diagnostic, Step, isIf } from "../model/types";
import { stepPointer } from "../model/validation";
import { StepForm } from "./ActionForm";

interface Props {
  def: Definition;
  setDef: (def: Definition) => void;
  diagnostics: Diagnostic[];
  triggerObject: string | null;
}

export function StepList(props: Props) {
  return <Steps {...props} list={[]} steps={props.def.actions} numbering="" />;
}

function Steps({ list, steps, numbering, ...props }: Props & { list: ListPath; steps: Step[]; numbering: string }) {
  if (steps.length === 0) return <p className="muted small empty-list">No steps.</p>;
  return (
    <ol className="steps">
      {steps.map((step, index) => {
        const loc: StepLoc = { list, index };
        const n = `${numbering}${index + 1}`;
        return (
          <li key={`${n}-${step.type}`} className="step-card">
            <div className="step-head">
              <h3>
                <span className="num">{n}.</span> {stepTitle(step)} {step.type !== stepTitle(step) && <code>{step.type}</code>}
              </h3>
              <div className="step-tools">
                <button type="button" className="secondary small" aria-label={`Move step ${n} up`} disabled={index === 0}
                  onClick={() => { const d = moveStep(props.def, loc, list, index - 1); if (d) props.setDef(d); }}>
                  ↑
                </button>
                <button type="button" className="secondary small" aria-label={`Move step ${n} down`} disabled={index === steps.length - 1}
                  onClick={() => { const d = moveStep(props.def, loc, list, index + 2); if (d) props.setDef(d); }}>
                  ↓
                </button>
                <button type="button" className="danger small" aria-label={`Delete step ${n}`} onClick={() => props.setDef(deleteStep(props.def, loc))}>
                  Delete
                </button>
              </div>
            </div>
            <StepForm
              step={step}
              pointer={stepPointer(loc)}
              triggerObject={props.triggerObject}
              diagnostics={props.diagnostics}
              onChange={(s) => props.setDef(replaceStep(props.def, loc, isIf(step) && isIf(s) ? { ...s, then: step.then, ...(step.else ? { else: step.else } : {}) } : s))}
            />
            {isIf(step) && (
              <div className="branches">
                {(["then", "else"] as const).map((branch) => {
                  const path: ListPath = [...list, index, branch];
                  const inner = branch === "then" ? step.then : step.else ?? [];
                  return (
                    <div className="branch" key={branch}>
                      <h4>{branch}</h4>
                      <Steps {...props} list={path} steps={inner} numbering={`${n}.${branch}.`} />
                      <AddToBranch
                        label={`Add a step to ${branch} of step ${n}`}
                        onAdd={(type) => props.setDef(insertStep(props.def, newStep(type), path, inner.length))}
                      />
                    </div>
                  );
                })}
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}

/** A compact chooser that adds a step at the end of an if/else branch. */
function AddToBranch({ label, onAdd }: { label: string; onAdd: (type: string) => void }) {
  const { schema } = useCatalog();
  return (
    <select
      className="add-to-branch"
      aria-label={label}
      value=""
      onChange={(e) => {
        if (e.target.value) onAdd(e.target.value);
      }}
    >
      <option value="">+ Add a step here…</option>
      {schema.actions.map((a) => (
        <option key={a.name} value={a.name}>
          {a.name}
        </option>
      ))}
      <option value="if">if / else (branch)</option>
    </select>
  );
}
