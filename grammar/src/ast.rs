//! The syntax tree produced by the parser.
//!
//! Every node carries a [`Span`]: byte offsets into the text that was parsed. The tree is
//! untyped and keeps what the author wrote (names, literals, layout of steps); meaning is
//! given to it by `automations-compiler`. Expressions are shared by conditions, step guards,
//! params and templates, so the same type serves `.auto` files and the strings of the JSON form.

/// A half-open byte range `start..end` into the parsed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    /// The same span moved `by` bytes to the right (for text embedded in a larger source).
    pub fn shift(self, by: u32) -> Span {
        Span {
            start: self.start + by,
            end: self.end + by,
        }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A `.auto` file: one or more automations.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub automations: Vec<Automation>,
}

/// `automation "Name" { ... }`. Header items are optional so that the compiler, not the
/// parser, reports a missing trigger with a good message.
#[derive(Debug, Clone, PartialEq)]
pub struct Automation {
    pub name: StrLit,
    pub description: Option<StrLit>,
    /// `status active`
    pub status: Option<Ident>,
    /// `environment sandbox`
    pub environment: Option<Ident>,
    /// `when case.created`: the event name as one identifier with its dots.
    pub trigger: Option<Ident>,
    /// `if <expr>` at automation level.
    pub condition: Option<Expr>,
    /// `layout { ... }`: node positions for the visual builder, an object literal.
    pub layout: Option<Expr>,
    /// `do { ... }`
    pub steps: Vec<Step>,
    pub span: Span,
}

/// A plain string literal without templates (names, descriptions).
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub kind: StepKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// `[id =] action(name: value, ...) [when guard] [retry { key: value, ... }]`
    Action {
        id: Option<Ident>,
        action: Ident,
        args: Vec<NamedArg>,
        guard: Option<Expr>,
        /// The retry policy's object (`ExprKind::Object`), as written.
        retry: Option<Expr>,
    },
    /// `[id =] if cond { ... } [else if ... | else { ... }]`; `else if` nests an `If` as
    /// the only step of `else_steps`.
    If {
        id: Option<Ident>,
        condition: Expr,
        then_steps: Vec<Step>,
        else_steps: Vec<Step>,
        /// True when an `else` was written (even an empty one).
        has_else: bool,
    },
}

/// `name: value` in an action call or a named function argument.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedArg {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Number(f64),
    /// `90s`, `15m`, `48h`, `3d` (also `500ms`, `2w`); `text` is as written.
    Duration {
        millis: i64,
        text: String,
    },
    /// A string literal; a template when it holds `{{ expr }}` parts.
    Str(Vec<StrPart>),
    /// `a.b.c`: identifiers joined by dots (`record.priority`, `steps.x.output.y`).
    Path(Vec<Ident>),
    List(Vec<Expr>),
    /// `{ key: value, "other key": value }`; also form schemas (`{ approved: bool }`).
    Object(Vec<ObjectEntry>),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `a and b and c` / `a or b or c`: one node for the whole chain, items in the order
    /// written (at least two), so that no pass recurses once per clause. A parenthesized
    /// chain stays its own item (a `Paren`).
    Logic {
        op: LogicOp,
        items: Vec<Expr>,
    },
    /// `x is null` / `x is not null`
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `name(arg, key: arg, ...)`
    Call {
        name: Ident,
        args: Vec<CallArg>,
    },
    /// `x => body`, only meaningful as an argument of `any`/`all`.
    Lambda {
        param: Ident,
        body: Box<Expr>,
    },
    /// `(expr)`, kept so that the printer and spans are faithful.
    Paren(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectEntry {
    pub key: Ident,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallArg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    Text(String),
    /// `{{ expr }}`; the span of the expr points inside the string.
    Expr(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
}

/// The n-ary boolean connectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogicOp {
    And,
    Or,
}

impl LogicOp {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            LogicOp::And => "and",
            LogicOp::Or => "or",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::Contains => "contains",
            BinaryOp::StartsWith => "starts_with",
            BinaryOp::EndsWith => "ends_with",
            BinaryOp::Matches => "matches",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }
}
