//! The `permitseal` binary: see `permitseal --help`.

fn main() -> std::process::ExitCode {
    permitseal_server::cli::main()
}
