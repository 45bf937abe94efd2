//! One module per command: turn `XxxArgs` into library options, call the library, render.

mod build;
mod build_image;
mod builder;
mod call;
mod debug_parse;
mod dockerfile_source;
mod history;
mod images;
mod import;
mod inspect;
mod load;
mod output_file;
mod prune;
mod rmi;
mod save;
mod store;
mod system;
mod tag;

use crate::cli::{BuilderCommand, Cli, Command, DebugCommand, ImageCommand, SystemCommand};
use crate::error::CliResult;

/// Run the command; `Ok(code)` is the process exit code.
pub fn dispatch(cli: Cli) -> CliResult {
    match cli.command {
        Command::Build(args) => build::run(&cli.global, *args),
        Command::Debug(DebugCommand::Parse(args)) => debug_parse::run(args),
        Command::Images(args) | Command::Image(ImageCommand::Ls(args)) => {
            images::run(&cli.global, args)
        }
        Command::Tag(args) | Command::Image(ImageCommand::Tag(args)) => tag::run(&cli.global, args),
        Command::Rmi(args) | Command::Image(ImageCommand::Rm(args)) => rmi::run(&cli.global, args),
        Command::Image(ImageCommand::Prune(args)) => prune::run(&cli.global, args),
        Command::Inspect(args) => inspect::run(&cli.global, args, inspect::Scope::Any),
        Command::Image(ImageCommand::Inspect(args)) => {
            inspect::run(&cli.global, args, inspect::Scope::Image)
        }
        Command::History(args) | Command::Image(ImageCommand::History(args)) => {
            history::run(&cli.global, args)
        }
        Command::Save(args) | Command::Image(ImageCommand::Save(args)) => {
            save::run(&cli.global, args)
        }
        Command::Load(args) | Command::Image(ImageCommand::Load(args)) => {
            load::run(&cli.global, args)
        }
        Command::Import(args) | Command::Image(ImageCommand::Import(args)) => {
            import::run(&cli.global, args)
        }
        Command::System(SystemCommand::Df(args)) => system::df(&cli.global, args),
        Command::System(SystemCommand::Check(args)) => system::check(&cli.global, args),
        Command::System(SystemCommand::Prune(args)) => builder::system_prune(&cli.global, args),
        Command::Builder(BuilderCommand::Prune(args)) => builder::prune(&cli.global, args),
    }
}
