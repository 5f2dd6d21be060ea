//! `glidepath`: wires the command line to the library. Every failure is one line on stderr
//! and an exit code (`glidepath_cli::operate::Exit`): 1 rolled back, 2 bad input, 3 AWS or
//! configuration, 4 conflict, 5 forbidden.

use clap::Parser;
use clap::error::ErrorKind;
use glidepath_cli::args::Cli;
use std::io::Write;
use std::process::ExitCode;

/// Exit code for input Glidepath refuses (the same as clap's usage errors).
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            let _ = error.print();
            return if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(BAD_INPUT)
            } else {
                ExitCode::SUCCESS
            };
        }
        Err(error) => {
            eprintln!("glidepath: {}", one_line(&error.render().to_string()));
            return ExitCode::from(BAD_INPUT);
        }
    };
    if !cli.is_offline() {
        return operate(&cli);
    }
    match cli.run() {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`glidepath plan ... | head`) is not an error worth a message.
            let _ = stdout.write_all(output.as_bytes());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("glidepath: {error}");
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// clap's message without its usage and help footer, on one line.
fn one_line(rendered: &str) -> String {
    rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .filter(|line| !line.is_empty())
        .map(|line| line.strip_prefix("error: ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An operator command: one AWS configuration load, the stack's outputs read once, then the
/// command.
fn operate(cli: &glidepath_cli::args::Cli) -> ExitCode {
    use glidepath_cli::operate::{Exit, OperateError, aws::AwsControl};
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("glidepath: could not start: {error}");
            return ExitCode::from(Exit::Aws as u8);
        }
    };
    let result: Result<Exit, OperateError> = runtime.block_on(async {
        let control = AwsControl::connect(&cli.stack, cli.via).await?;
        use std::io::IsTerminal;
        let terminal = std::io::stdout().is_terminal();
        let mut stdout = std::io::stdout().lock();
        cli.operate(&control, &mut stdout, terminal).await
    });
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) => {
            eprintln!("glidepath: {error}");
            ExitCode::from(error.exit as u8)
        }
    }
}
