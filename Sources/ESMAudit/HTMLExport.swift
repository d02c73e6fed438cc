import ESMCore

/// One self-contained HTML file: a timeline per mapping, changes highlighted, filters by mapping
/// and by actor, and what the export covers in its header. It loads nothing from anywhere.
public enum HTMLExport {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func actorKey(_ e: TimelineEntry) -> String { e.event.actor?.principal ?? "system" }

    public static func document(_ entries: [TimelineEntry], coverage: ExportCoverage) -> String {
        var order: [String] = []
        var byMapping: [String: [TimelineEntry]] = [:]
        for e in entries {
            if byMapping[e.event.uuid] == nil { order.append(e.event.uuid) }
            byMapping[e.event.uuid, default: []].append(e)
        }
        let actors = Array(Set(entries.map(actorKey))).sorted()
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>esmlog audit export: events \(coverage.firstSequence)–\(coverage.lastSequence)</title>
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1b1b;background:#fff}
        header{border-bottom:2px solid #333;margin-bottom:16px;padding-bottom:8px}
        h1{font-size:20px;margin:0 0 6px}h2{font-size:15px;margin:22px 0 6px;font-family:monospace}
        .meta{font-family:monospace;font-size:12px;color:#333}.ok{color:#0a6b2b;font-weight:bold}.bad{color:#a30000;font-weight:bold}
        .sub{color:#555;font-size:12px;font-family:monospace;margin-bottom:6px}
        table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
        th{background:#f3f3f3;font-weight:600}td.mono{font-family:monospace;font-size:12px;white-space:nowrap}
        .op{font-weight:600}.sys{color:#666}ul{margin:0;padding-left:16px}li{font-family:monospace;font-size:12px}
        del{background:#ffe1e1;text-decoration:line-through;color:#8a0000}ins{background:#dcf5e3;text-decoration:none;color:#0a5b24}
        .filters{margin:10px 0}.filters label{margin-right:14px}
        svg.lanes{display:block;border:1px solid #ccc;background:#fafafa;margin:8px 0 4px}svg.lanes text{font:11px monospace;fill:#222}
        svg.lanes a:hover circle{stroke:#000;stroke-width:2}.legend span{display:inline-block;margin-right:12px;font-size:12px}
        .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;border:1px solid #888}
        tr:target{outline:3px solid #e0a800}
        </style></head><body>
        <header><h1>esmlog audit export</h1>
        <div class="meta">events \(coverage.firstSequence)–\(coverage.lastSequence) of the log · head hash \(escape(coverage.headHash))\(coverage.checkpoint.map { " · signed checkpoint at sequence \($0.sequence) (\(escape($0.time)))" } ?? "")</div>
        <div class="meta">verification: <span class="\(coverage.verification == "ok" ? "ok" : "bad")">\(escape(coverage.verification))</span> · filter: \(escape(coverage.filter)) · \(entries.count) events shown, \(order.count) mappings</div>
        </header>
        <div class="filters"><label>Mapping <select id="f-mapping"><option value="">all</option>
        """
        for uuid in order { h += "<option value=\"\(escape(uuid))\">\(escape(uuid))</option>" }
        h += "</select></label><label>Actor <select id=\"f-actor\"><option value=\"\">all</option>"
        for a in actors { h += "<option value=\"\(escape(a))\">\(escape(a))</option>" }
        h += "</select></label></div>\n"
        h += lanes(order: order, byMapping: byMapping)
        h += actorSummary(entries)
        for uuid in order {
            let events = byMapping[uuid]!
            let last = events.last!.after ?? events.last!.before
            let function = last?.functionArn ?? ""
            let source = last?.eventSourceArn ?? last?.configuration["Topics"].map(display) ?? ""
            h += "<section class=\"mapping\" data-mapping=\"\(escape(uuid))\"><h2>\(escape(uuid))</h2>"
            h += "<div class=\"sub\">\(escape(function)) ← \(escape(source))</div>"
            h += "<table><thead><tr><th>time (UTC)</th><th>seq</th><th>operation</th><th>state</th><th>actor</th><th>changes</th></tr></thead><tbody>\n"
            for e in events {
                let actor = actorKey(e)
                var who = "<span class=\"sys\">system</span>"
                if let a = e.event.actor {
                    who = "\(escape(actor))<br>\(escape(a.sourceIp)) · \(escape(a.region))<br><span class=\"sys\">request \(escape(a.requestId))<br>\(escape(String(a.userAgent.split(separator: " ").first ?? "")))</span>"
                }
                var changes = "<ul>"
                for c in e.changes where c.path != "State" {
                    changes += "<li>\(escape(c.path)): <del>\(escape(display(c.before)))</del> → <ins>\(escape(display(c.after)))</ins></li>"
                }
                changes += "</ul>"
                let states = "\(e.stateBefore?.rawValue ?? "–") → \(e.stateAfter?.rawValue ?? "removed")"
                h += "<tr class=\"event\" id=\"ev-\(e.event.sequence)\" data-actor=\"\(escape(actor))\"><td class=\"mono\">\(escape(e.event.time.description))</td><td class=\"mono\">\(e.event.sequence)</td>"
                h += "<td class=\"op\">\(escape(e.operation))</td><td class=\"mono\">\(escape(states))</td><td class=\"mono\">\(who)</td><td>\(changes)</td></tr>\n"
            }
            h += "</tbody></table></section>\n"
        }
        h += """
        <script>
        (function(){
          var m=document.getElementById('f-mapping'),a=document.getElementById('f-actor');
          function apply(){
            document.querySelectorAll('section.mapping').forEach(function(s){
              var any=false;
              s.querySelectorAll('tr.event').forEach(function(r){
                var show=(!a.value||r.dataset.actor===a.value);r.style.display=show?'':'none';if(show)any=true;});
              s.style.display=((!m.value||s.dataset.mapping===m.value)&&any)?'':'none';});
          }
          m.addEventListener('change',apply);a.addEventListener('change',apply);
        })();
        </script>
        </body></html>

        """
        return h
    }

    /// The fill of each state's stretch in the lanes; the screenshot test looks for these.
    public static let stateColors: [(MappingState, String)] = [
        (.creating, "#7fb3e6"), (.enabling, "#9fd9a8"), (.enabled, "#2e9e4f"), (.updating, "#e8b630"),
        (.disabling, "#e8873a"), (.disabled, "#8c8c8c"), (.deleting, "#d2413a"),
    ]

    static func color(_ s: MappingState) -> String { stateColors.first { $0.0 == s }?.1 ?? "#cccccc" }

    /// Per mapping, a lane of its states over time (one stretch per state, from the event that
    /// entered it to the next), each user change marked with a dot whose hover shows the change
    /// and whose click goes to its row below. Time runs left to right, to scale, from the first
    /// event shown to the last. What happened before the first event shown is not drawn.
    static func lanes(order: [String], byMapping: [String: [TimelineEntry]]) -> String {
        let all = order.flatMap { byMapping[$0]! }
        guard let first = all.map(\.event.time.milliseconds).min(), let last = all.map(\.event.time.milliseconds).max() else { return "" }
        let labelWidth = 110.0, width = 1100.0, laneHeight = 26.0, top = 22.0
        let span = Double(max(last - first, 1))
        func x(_ ms: Int64) -> Double { labelWidth + (Double(ms - first) / span) * (width - labelWidth - 12) }
        func f(_ v: Double) -> String {
            let tenths = Int((v * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)"
        }
        let height = top + laneHeight * Double(order.count) + 8
        var svg = "<h2>States over time</h2><div class=\"legend\">"
        for (state, fill) in stateColors { svg += "<span><i style=\"background:\(fill)\"></i>\(state.rawValue)</span>" }
        svg += "<span>● a user's change (hover for details, click for its row)</span></div>"
        svg += "<svg class=\"lanes\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        svg += "<text x=\"\(f(labelWidth))\" y=\"14\">\(escape(EventTime(milliseconds: first).description))</text>"
        svg += "<text x=\"\(f(width - 8))\" y=\"14\" text-anchor=\"end\">\(escape(EventTime(milliseconds: last).description))</text>"
        for (row, uuid) in order.enumerated() {
            let y = top + laneHeight * Double(row)
            let events = byMapping[uuid]!
            svg += "<g class=\"lane\" data-mapping=\"\(escape(uuid))\"><text x=\"4\" y=\"\(f(y + 16))\">\(escape(String(uuid.prefix(13))))</text>"
            for (i, e) in events.enumerated() {
                guard let state = e.stateAfter else { continue }
                let start = x(e.event.time.milliseconds)
                let end = i + 1 < events.count ? x(events[i + 1].event.time.milliseconds) : width - 12
                svg += "<rect x=\"\(f(start))\" y=\"\(f(y + 4))\" width=\"\(f(max(end - start, 2)))\" height=\"\(f(laneHeight - 8))\" fill=\"\(color(state))\"><title>\(escape(state.rawValue)) from \(escape(e.event.time.description))</title></rect>"
            }
            for e in events where e.event.actor != nil {
                let cx = x(e.event.time.milliseconds)
                var detail = "\(e.event.time) #\(e.event.sequence) \(e.operation) by \(actorKey(e))"
                for c in e.changes where c.path != "State" { detail += "\n\(c.path): \(display(c.before)) → \(display(c.after))" }
                svg += "<a href=\"#ev-\(e.event.sequence)\"><circle cx=\"\(f(cx))\" cy=\"\(f(y + laneHeight / 2))\" r=\"5\" fill=\"#ffffff\" stroke=\"#1b1b1b\" stroke-width=\"1.5\"><title>\(escape(detail))</title></circle></a>"
            }
            svg += "</g>"
        }
        return svg + "</svg>\n"
    }

    /// Who changed what: per actor, the events by kind and the fields changed.
    static func actorSummary(_ entries: [TimelineEntry]) -> String {
        struct Row { var events = 0, creates = 0, updates = 0, deletes = 0, tags = 0, fields = 0; var first = "", last = "" }
        var rows: [String: Row] = [:]
        for e in entries where e.event.actor != nil {
            var r = rows[actorKey(e), default: Row()]
            r.events += 1
            switch e.event.change.request {
            case .create: r.creates += 1
            case .update: r.updates += 1
            case .delete: r.deletes += 1
            case .tags: r.tags += 1
            case nil: break
            }
            r.fields += e.changes.filter { $0.path != "State" }.count
            if r.first.isEmpty { r.first = e.event.time.description }
            r.last = e.event.time.description
            rows[actorKey(e)] = r
        }
        var h = "<h2>Changes per actor</h2><table class=\"actors\"><thead><tr><th>actor</th><th>events</th><th>creates</th><th>updates</th><th>deletes</th><th>tag changes</th><th>fields changed</th><th>first</th><th>last</th></tr></thead><tbody>"
        for key in rows.keys.sorted() {
            let r = rows[key]!
            h += "<tr><td class=\"mono\">\(escape(key))</td><td>\(r.events)</td><td>\(r.creates)</td><td>\(r.updates)</td><td>\(r.deletes)</td><td>\(r.tags)</td><td>\(r.fields)</td><td class=\"mono\">\(escape(r.first))</td><td class=\"mono\">\(escape(r.last))</td></tr>"
        }
        return h + "</tbody></table>\n"
    }
}
