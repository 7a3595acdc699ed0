import Testing

@testable import BurrowCore

struct TerminalTextTests {
    @Test func escapeSequencesAndControlCharactersAreDropped() {
        #expect(TerminalText.sanitized("/ # \u{1B}[6n") == "/ # ")
        #expect(TerminalText.sanitized("a\u{1B}[1;31mred\u{1B}[0m b") == "ared b")
        #expect(TerminalText.sanitized("\u{1B}]0;owned\u{07}title kept out") == "title kept out")
        #expect(TerminalText.sanitized("\u{1B}]2;x\u{1B}\\after") == "after")
        #expect(TerminalText.sanitized("bell\u{07} back\u{08}space\r") == "bell backspace")
        #expect(TerminalText.sanitized("c1 \u{9B}31m") == "c1 31m")
        #expect(TerminalText.sanitized("tab\tand ünïcode ✓") == "tab\tand ünïcode ✓")
        #expect(TerminalText.sanitized("cut at the end \u{1B}[") == "cut at the end ")
    }
}
