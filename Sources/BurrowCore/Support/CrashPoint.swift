import Foundation

/// Fault injection for crash-safety tests: when `BURROW_CRASH_AT` names a point a multi-step
/// operation reaches, the process kills itself with SIGKILL right there, exactly as an OOM kill
/// or power loss would, so recovery can be checked at every step. Unset, it costs one lookup.
public enum CrashPoint {
    public static func reach(_ point: String) {
        guard let target = ProcessInfo.processInfo.environment["BURROW_CRASH_AT"], target == point else { return }
        kill(getpid(), SIGKILL)
    }
}
