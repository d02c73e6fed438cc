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

    static func actorKey(_ e: TimelineEntry) -> String {
        guard let a = e.event.actor else { return "system" }
        return a.accessKeyId.isEmpty ? "(unsigned)" : a.accessKeyId
    }

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
                h += "<tr class=\"event\" data-actor=\"\(escape(actor))\"><td class=\"mono\">\(escape(e.event.time.description))</td><td class=\"mono\">\(e.event.sequence)</td>"
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
}
