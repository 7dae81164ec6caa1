//! Human output through codespan-reporting: `error[E0101]: message`, the source line with
//! carets under the span, labels, notes and the did-you-mean as a `help` note.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};

use super::{FileDiagnostics, RenderConfig};
use crate::diagnostic::{Diagnostic, Severity};

/// All diagnostics of all files as text (ANSI-coloured when `config.color`), followed by a
/// summary line when there is anything to report.
pub fn render_human(files: &[FileDiagnostics], config: RenderConfig) -> String {
    let mut db = SimpleFiles::new();
    let term_config = Config::default();
    let mut out = String::new();
    for f in files {
        let id = db.add(f.file, f.source);
        for d in f.diagnostics {
            let cs = to_codespan(id, d, f.source.len());
            out.push_str(&emit(&db, &term_config, &cs, config.color));
        }
    }
    let (errors, warnings) = super::counts(files);
    if errors + warnings > 0 {
        out.push_str(&format!(
            "{errors} error{}, {warnings} warning{}\n",
            plural(errors),
            plural(warnings)
        ));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn emit(
    db: &SimpleFiles<&str, &str>,
    config: &Config,
    d: &CsDiagnostic<usize>,
    color: bool,
) -> String {
    if color {
        let mut buf = term::termcolor::Ansi::new(Vec::new());
        if term::emit_to_write_style(&mut buf, config, db, d).is_err() {
            return String::new();
        }
        String::from_utf8_lossy(&buf.into_inner()).into_owned()
    } else {
        term::emit_into_string(config, db, d).unwrap_or_default()
    }
}

fn to_codespan(file: usize, d: &Diagnostic, len: usize) -> CsDiagnostic<usize> {
    let clamp = |s: crate::ir::Span| (s.start as usize).min(len)..(s.end as usize).min(len);
    let severity = match d.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
        Severity::Note => CsSeverity::Note,
    };
    let mut labels = vec![Label::primary(file, clamp(d.span))];
    labels.extend(
        d.labels
            .iter()
            .map(|l| Label::secondary(file, clamp(l.span)).with_message(&l.message)),
    );
    let mut notes = d.notes.clone();
    if let Some(s) = &d.suggestion
        && !notes.iter().any(|n| n.contains(&format!("`{s}`")))
    {
        notes.push(format!("help: replace with `{s}`"));
    }
    CsDiagnostic::new(severity)
        .with_code(d.code)
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}
