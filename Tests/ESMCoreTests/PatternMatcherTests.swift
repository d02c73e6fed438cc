import Testing
@testable import ESMCore

/// The hand-written matchers against the model's regular expressions, on strings built from
/// pieces that exercise every group (and their near misses), joined by `:`.
@Suite struct PatternMatcherTests {
    static let arnPattern = #"arn:(aws[a-zA-Z0-9\-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d)?:(\d{12})?:(.*)"#
    static let functionPattern =
        #"(arn:(aws[a-zA-Z\-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d:)?(\d{12}:)?(function:)?([a-zA-Z0-9\-_.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9\-_]+))?"#

    static let pieces = [
        "arn", "Arn", "aws", "aws-cn", "aws-us-gov", "aws9", "awz", "lambda", "sqs", "kinesis", "s-3", "", "us-east-1",
        "us-gov-west-1", "us-isob-east-1", "us-iso-east-1", "us-isobx-east-1", "us-gov-1", "eu-west-10", "e-west-1",
        "us-east-x", "US-east-1", "123456789012", "12345678901", "1234567890123", "function", "functions", "fn",
        "my_fn.v2", "a-b", "$LATEST", "$LATEST.PUBLISHED", "$latest", "live", "v1", "a.b", "a b", "é", "x\ny", "q/r",
        "*", "stream/clicks", "table/t/stream/2026-11-29T00:00:00.000",
    ]

    static func strings(count: Int, seed: UInt64) -> [String] {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % n
        }
        var out: [String] = []
        for _ in 0..<count {
            out.append((0..<(1 + next(8))).map { _ in pieces[next(pieces.count)] }.joined(separator: ":"))
        }
        // ARN-shaped: each slot filled from the pieces or left out, so that matches are common.
        for _ in 0..<count {
            let slots = ["arn", pieces[next(5) + 1], pieces[next(12) + 6], pieces[next(10) + 11], pieces[next(5) + 21],
                         pieces[next(pieces.count)], pieces[next(pieces.count)]]
            let kept = slots.enumerated().filter { _ in next(8) != 0 }.map(\.element)
            out.append(kept.joined(separator: ":"))
        }
        // Well-formed shapes.
        for region in ["", "us-east-1", "us-gov-west-1", "us-isob-east-1"] {
            for account in ["", "123456789012"] {
                out.append("arn:aws:lambda:\(region):\(account):function:f:live")
                out.append("arn:aws:sqs:\(region):\(account):q")
                out.append("\(region):\(account):function:f")
                out.append("\(account):function:f:$LATEST")
            }
        }
        return out
    }

    /// Checks `matcher` against `pattern` on 20,000 generated strings plus the well-formed
    /// shapes; enough of them must match for the comparison to mean something.
    static func agree(_ pattern: String, _ matcher: (Substring) -> Bool, seed: UInt64) {
        let regex = try! Regex(pattern)
        var matched = 0
        for s in strings(count: 20_000, seed: seed) {
            let expected = (try? regex.wholeMatch(in: s)) != nil
            #expect(matcher(s[...]) == expected, "\(s.debugDescription)")
            if expected { matched += 1 }
        }
        #expect(matched > 500)
    }

    @Test func arnMatcherAgreesWithTheExpression() {
        PatternMatcherTests.agree(PatternMatcherTests.arnPattern, PatternMatchers.arn, seed: 1)
    }

    @Test func functionNameMatcherAgreesWithTheExpression() {
        PatternMatcherTests.agree(PatternMatcherTests.functionPattern, PatternMatchers.functionName, seed: 2)
    }
}

/// FunctionArn from every FunctionName form, checked against the model's pattern's own groups.
@Suite struct FunctionArnTests {
    /// The ARN built from the groups Swift's backtracking regex engine finds for `text`, the
    /// way Java's finds them: the reference the parser is checked against.
    static func reference(_ text: String, region: String, account: String) -> String? {
        let regex = try! Regex(PatternMatcherTests.functionPattern)
        guard let m = try? regex.wholeMatch(in: text) else { return nil }
        func group(_ i: Int) -> String? { m.output[i].substring.map(String.init) }
        let partition = group(2).flatMap { $0.isEmpty ? nil : $0 } ?? "aws"
        let r = group(3).map { String($0.dropLast()) } ?? region
        let a = group(8).map { String($0.dropLast()) } ?? account
        let qualifier = group(12).map { ":" + $0 } ?? ""
        return "arn:\(partition):lambda:\(r):\(a):function:\(group(10)!)\(qualifier)"
    }

    @Test func everyGeneratedFunctionNameResolvesAsItsPatternGroupsSay() {
        var checked = 0
        for s in PatternMatcherTests.strings(count: 20_000, seed: 3) {
            guard let expected = FunctionArnTests.reference(s, region: "eu-west-1", account: "111122223333") else { continue }
            #expect(FunctionReference(s, region: "eu-west-1", account: "111122223333").arn == expected, "\(s.debugDescription)")
            checked += 1
        }
        #expect(checked > 500)
    }

    @Test(arguments: [
        ("fn", "arn:aws:lambda:eu-west-1:111122223333:function:fn", "fn"),
        ("fn:live", "arn:aws:lambda:eu-west-1:111122223333:function:fn:live", "fn"),
        ("function", "arn:aws:lambda:eu-west-1:111122223333:function:function", "function"),
        ("fn:function", "arn:aws:lambda:eu-west-1:111122223333:function:fn:function", "fn"),
        ("arn:aws:lambda:fn", "arn:aws:lambda:eu-west-1:111122223333:function:fn", "fn"),
        ("arn:aws:lambda:123456789012:function:f", "arn:aws:lambda:eu-west-1:123456789012:function:f", "f"),
        ("123456789012:function:f", "arn:aws:lambda:eu-west-1:123456789012:function:f", "f"),
        ("us-east-2:123456789012:function:f:$LATEST", "arn:aws:lambda:us-east-2:123456789012:function:f:$LATEST", "f"),
        ("arn:aws-cn:lambda:cn-north-1:123456789012:function:f:1", "arn:aws-cn:lambda:cn-north-1:123456789012:function:f:1", "f"),
    ])
    func theFormsAReviewFoundWrong(text: String, arn: String, name: String) {
        let f = FunctionReference(text, region: "eu-west-1", account: "111122223333")
        #expect(f.arn == arn)
        #expect(f.name == name)
        #expect(FunctionArnTests.reference(text, region: "eu-west-1", account: "111122223333") == arn)
    }
}
