import ArgumentParser
import BurrowCore

/// The `burrow` root command: parses arguments and dispatches to one file per verb.
public struct BurrowCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "burrow",
        abstract: "Give every project its own Linux machine.",
        discussion: """
            burrow turns distro rootfs tarballs into lightweight VMs through libvirt.
            State lives in $BURROW_HOME (default $XDG_DATA_HOME/burrow, or
            ~/.local/share/burrow).

            Examples:
              burrow kernel fetch
              burrow image pull debian-12
              burrow create dev --image debian-12
              burrow shell dev
              burrow exec dev -- uname -a
              burrow image import deb ./rootfs.tar.zst
              burrow image ls --json
            """,
        version: "0.1.0",
        subcommands: [
            EnvCreate.self, EnvStart.self, EnvStop.self, EnvRestart.self, EnvRemove.self, EnvExec.self, EnvShell.self, EnvCopy.self, EnvList.self, EnvLogs.self,
            EnvSSHConfig.self, EnvCode.self, EnvClone.self, EnvSnapshot.self, EnvRestore.self, EnvSuspend.self, EnvCompact.self, EnvExport.self, ImageCommand.self, KernelCommand.self, GPUCommand.self, DoctorCommand.self,
            ProjectInit.self, ProjectUp.self, ProjectDown.self, EnvPort.self,
        ]
    )

    public init() {}
}
