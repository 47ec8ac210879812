//! Logging that follows Lambda's logging controls, without `EnvFilter`.

/// Logging that follows Lambda's controls, as `lambda_runtime::tracing::init_default_subscriber`
/// does: JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`, no timestamps (CloudWatch adds them), the level
/// from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO. `RUST_LOG` takes `target=level`
/// directives (`info,hookrelay=debug`) but not span or field filters: those need `EnvFilter`, whose
/// regex engine cost each deploy zip about 0.2 MB (BENCHMARKS.md, "Tuning log").
pub fn init_tracing() {
    use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};
    let var = |key| std::env::var(key).ok();
    let filter = log_filter(var("AWS_LAMBDA_LOG_LEVEL").as_deref(), var("RUST_LOG").as_deref());
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|format| format.eq_ignore_ascii_case("json"));
    let lines = tracing_subscriber::fmt::layer().with_target(false).without_time();
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry.with(lines.json()).init();
    } else {
        registry.with(lines).init();
    }
}

fn log_filter(lambda_level: Option<&str>, rust_log: Option<&str>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    // Lambda's advanced logging controls set TRACE, DEBUG, INFO, WARN, ERROR or FATAL.
    let lambda_level = lambda_level.and_then(|level| match level.to_ascii_uppercase().as_str() {
        "FATAL" => Some(LevelFilter::ERROR),
        other => other.parse::<LevelFilter>().ok(),
    });
    match (
        lambda_level,
        rust_log.and_then(|directives| renamed_targets(directives).parse::<Targets>().ok()),
    ) {
        (Some(level), _) => Targets::new().with_default(level),
        // As with `EnvFilter`, targets not named log at INFO unless a bare level says otherwise.
        (None, Some(targets)) if targets.default_level().is_none() => targets.with_default(LevelFilter::INFO),
        (None, Some(targets)) => targets,
        (None, None) => Targets::new().with_default(LevelFilter::INFO),
    }
}

/// The library was called `shared` before 0.2 (CHANGELOG.md): `RUST_LOG=shared=debug` keeps
/// meaning this crate's events, whose target is now `hookrelay`.
fn renamed_targets(directives: &str) -> String {
    directives
        .split(',')
        .map(|directive| match directive.trim().strip_prefix("shared") {
            Some(rest) if rest.is_empty() || rest.starts_with('=') || rest.starts_with("::") => {
                format!("hookrelay{rest}")
            }
            _ => directive.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::filter::LevelFilter;

    use super::log_filter;

    #[test]
    fn the_log_level_follows_lambda_then_rust_log() {
        let enabled = |lambda: Option<&str>, rust_log: Option<&str>, target: &str, level: Level| {
            log_filter(lambda, rust_log).would_enable(target, &level)
        };
        assert!(enabled(None, None, "hookrelay", Level::INFO));
        assert!(!enabled(None, None, "hookrelay", Level::DEBUG));
        assert!(enabled(Some("DEBUG"), Some("error"), "hookrelay", Level::DEBUG));
        assert!(!enabled(Some("FATAL"), None, "hookrelay", Level::WARN));
        assert!(enabled(Some("FATAL"), None, "hookrelay", Level::ERROR));
        assert!(enabled(None, Some("warn"), "hookrelay", Level::WARN));
        assert!(!enabled(None, Some("warn"), "hookrelay", Level::INFO));
        assert!(enabled(
            None,
            Some("hookrelay=debug"),
            "hookrelay::inbound::route",
            Level::DEBUG
        ));
        assert!(!enabled(None, Some("hookrelay=debug"), "ingress", Level::DEBUG));
        // The library's old name still selects it, alone or with a module path.
        const OLD_NAME: &str = "shared";
        assert!(enabled(
            None,
            Some("shared=debug"),
            "hookrelay::inbound::route",
            Level::DEBUG
        ));
        assert!(enabled(
            None,
            Some(&format!("warn,{OLD_NAME}::inbound::route=trace")),
            "hookrelay::inbound::route",
            Level::TRACE
        ));
        assert!(!enabled(
            None,
            Some(&format!("warn,{OLD_NAME}::inbound::route=trace")),
            "hookrelay::inbound::verify",
            Level::INFO
        ));
        assert!(!enabled(
            None,
            Some("sharedx=debug"),
            "hookrelay::inbound::route",
            Level::DEBUG
        ));
        assert!(enabled(None, Some("shared=debug"), "aws_smithy_runtime", Level::INFO));
        assert!(!enabled(None, Some("shared=debug"), "aws_smithy_runtime", Level::DEBUG));
        assert!(!enabled(
            None,
            Some("info,aws_smithy_runtime=off"),
            "aws_smithy_runtime",
            Level::ERROR
        ));
        assert_eq!(
            log_filter(Some("nonsense"), Some("also{nonsense")).default_level(),
            Some(LevelFilter::INFO)
        );
    }
}
