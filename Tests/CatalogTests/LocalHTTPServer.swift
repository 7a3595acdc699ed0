import Foundation

/// A throwaway HTTP server on 127.0.0.1, run by python3 from the standard library, serving the
/// files of one folder plus two misbehaving endpoints:
/// - `/slow`: announces 12.5 MiB, then trickles 64 KiB every 50 ms (bounded to ~10 s);
/// - `/truncated`: announces 1 MiB, sends 1 KiB and closes.
///
/// The server also exits when its stdin closes, so it cannot outlive a crashed test run.
struct LocalHTTPServer {
    let baseURL: URL

    private static let script = #"""
    import http.server, os, sys, threading, time

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == "/slow":
                self.send_response(200)
                self.send_header("Content-Length", str(200 * 65536))
                self.end_headers()
                try:
                    for _ in range(200):
                        self.wfile.write(b"x" * 65536)
                        self.wfile.flush()
                        time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            elif self.path == "/truncated":
                self.send_response(200)
                self.send_header("Content-Length", str(1 << 20))
                self.end_headers()
                self.wfile.write(b"y" * 1024)
            else:
                super().do_GET()

    os.chdir(sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    """#

    /// Starts a server for `root`, runs `body` with it, and always stops it afterwards.
    static func serving<T>(_ root: URL, _ body: (LocalHTTPServer) async throws -> T) async throws -> T {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-c", script, root.path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        defer {
            try? input.fileHandleForWriting.close()
            process.terminate()
            process.waitUntilExit()
        }

        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ServerError.exitedBeforeListening }
            line.append(chunk)
        }
        let portText = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(portText), let baseURL = URL(string: "http://127.0.0.1:\(port)") else {
            throw ServerError.unexpectedOutput(portText)
        }
        return try await body(LocalHTTPServer(baseURL: baseURL))
    }

    func url(_ path: String) -> URL {
        baseURL.appendingPathComponent(path)
    }

    enum ServerError: Error {
        case exitedBeforeListening
        case unexpectedOutput(String)
    }
}
