//! The library's error type: one variant per thing that can go wrong, each naming its input.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// Everything the library can fail with. Each variant carries the file, source or parameter it
/// is about, so that a user reading one line on stderr knows what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An `--input` that names nothing readable, or resolves to no sign-in files.
    #[error("input {input}: {message}")]
    Input { input: String, message: String },

    /// A file whose format cannot be told from its name, or that is not what its name says.
    #[error("{path}: {message}")]
    Format { path: String, message: String },

    /// One NDJSON record that cannot be used: the file, the 1-based line, and why.
    #[error("{path}:{line}: {message}")]
    NdjsonRecord { path: String, line: u64, message: String },

    /// A Parquet file that cannot be read, or holds a column of an unusable type.
    #[error("{path}: {message}")]
    Parquet { path: String, message: String },

    /// The FOCI client list (embedded, a file or a URL) is unusable.
    #[error("FOCI list {source_name}: {message}")]
    Foci { source_name: String, message: String },

    /// A detection file whose header cannot be parsed, or an unknown detection name.
    #[error("detection {name}: {message}")]
    Detection { name: String, message: String },

    /// A parameter value that does not parse, is out of range or names no declared parameter.
    #[error("parameter {name}: {message}")]
    Parameter { name: String, message: String },

    /// Command-line values that contradict each other (e.g. `--since` after `--until`).
    #[error("{0}")]
    Usage(String),

    /// Results could not be written.
    #[error("output {target}")]
    Output {
        target: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A local file or folder could not be created or read.
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The query engine failed; `context` says at which step. The engine's message already
    /// includes its causes, so they are not chained again.
    #[error("{context}: {cause}")]
    Engine { context: String, cause: Box<DataFusionError> },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an engine error with the step it happened in.
    pub fn engine(context: impl Into<String>) -> impl FnOnce(DataFusionError) -> Error {
        let context = context.into();
        move |cause| Error::Engine { context, cause: Box::new(cause) }
    }

    /// True when the error is a closed stdout (e.g. `foci-hunt hunt | head`), which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(err) = current {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return true;
            }
            current = err.source();
        }
        false
    }
}

impl Error {
    /// An engine failure whose root is one of ours (a bad record, an unreadable file, raised
    /// inside a scan) becomes that error again; anything else is returned as it is.
    pub fn into_input_cause(self) -> Error {
        let Error::Engine { cause, .. } = &self else { return self };
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(cause.as_ref());
        while let Some(err) = current {
            if let Some(ours) = err.downcast_ref::<Error>() {
                match ours {
                    Error::NdjsonRecord { path, line, message } => {
                        return Error::NdjsonRecord { path: path.clone(), line: *line, message: message.clone() };
                    }
                    Error::Format { path, message } => return Error::Format { path: path.clone(), message: message.clone() },
                    Error::Input { input, message } => return Error::Input { input: input.clone(), message: message.clone() },
                    _ => {}
                }
            }
            current = match err.downcast_ref::<DataFusionError>() {
                // `source()` skips the boxed error of `External`; look inside it.
                Some(DataFusionError::External(inner)) => Some(inner.as_ref()),
                _ => err.source(),
            };
        }
        self
    }
}

/// `text` on one line: engine messages may span several, and an error is one line on stderr.
pub fn one_line(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}
