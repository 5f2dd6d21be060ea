//! `glidepath`: wires the command line to the library; bad input exits with code 2 and one
//! line on stderr.

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
