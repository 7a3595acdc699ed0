import BurrowCore
import Foundation

/// Shows each step of a kernel command ("building the initramfs…") on its own line on stderr.
/// Those steps are few, long and without byte counts, which a byte-rate display cannot show.
struct StepProgress: ProgressReporter {
    /// Steps on a terminal when output is for people; nothing otherwise.
    static func make(json: Bool) -> ProgressReporter {
        if !json, isatty(STDERR_FILENO) == 1 { return StepProgress() }
        return SilentProgress()
    }

    func begin(_ phase: String, total: Int64?) {
        FileHandle.standardError.write(Data("\(phase)…\n".utf8))
    }

    func advance(to completed: Int64) {}
    func end() {}
}
