import Foundation

// ProcessRunner captures a program's output as text and runs it in burrow's own folder; the
// kernel work needs binary output in files (decompressors) and a working folder (apt-get
// download), so these wrap the program in `sh`, with every path passed as an argument, never
// spliced into the script.
extension ProcessRunner {
    /// Runs `command` with standard input read from `input` (from byte `skipping` on) and
    /// standard output written to `output`. The exit status is returned, not judged: a
    /// decompressor fed a kernel image complains about the bytes after its stream.
    func runFiltering(_ command: [String], input: URL, skipping: Int = 0, output: URL) async throws -> Output {
        try await runAllowingFailure(
            "sh",
            ["-c", #"in=$1 start=$2 out=$3; shift 3; tail -c "+$start" -- "$in" | "$@" >"$out""#,
             "sh", input.path, String(skipping + 1), output.path] + command
        )
    }

    /// Runs `command` inside `directory`, failing like `run` does.
    @discardableResult
    func run(_ command: [String], in directory: URL, what: String) async throws -> Output {
        try await run("sh", ["-c", #"cd -- "$1" && shift && exec "$@""#, "sh", directory.path] + command, what: what)
    }
}
