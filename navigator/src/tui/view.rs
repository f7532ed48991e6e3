//! Drawing the model, and nothing else: `view` changes no state and reads no file or
//! database (what it shows was read by the update, into [`super::app::Shown`]). Every
//! text drawn here is terminal-safe already (names and paths went through `clean`,
//! source lines through `safe_line`).

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;
use schema::{Kind, Linkage};

use super::app::{App, Focus, Mode, PageKind, Purpose, KEYS};
use super::layout::{layout, Areas};

const BROWSE_HINTS: &str =
    "?:help /:search Enter:open Right:expand b:back e:edit y:copy &:filter q:quit";
const SEARCH_HINTS: &str =
    "type to filter  Up Down: select  Enter: open  Esc: clear, again: cancel";

impl App {
    fn kind_style(&self, kind: Option<Kind>) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if !self.colour {
            return s;
        }
        match kind {
            Some(Kind::Function) => s.fg(Color::Cyan),
            Some(Kind::Variable) => s.fg(Color::Green),
            Some(Kind::Macro) => s.fg(Color::Magenta),
            Some(Kind::Field | Kind::Parameter | Kind::Result) => s.fg(Color::Yellow),
            Some(_) => s.fg(Color::Blue),
            None => s,
        }
    }

    fn dim(&self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    pub fn view(&self, frame: &mut Frame) {
        let area = frame.area();
        if area.width < 20 || area.height < 6 {
            frame.render_widget(Paragraph::new("nccnav: window too small"), area);
            return;
        }
        match &self.mode {
            Mode::Search(_) => self.view_search(frame, area),
            Mode::Browse | Mode::Help | Mode::Confirm(..) | Mode::Filter => {
                self.view_browse(frame, area)
            }
        }
        if matches!(self.mode, Mode::Help) {
            self.view_help(frame, area);
        }
    }

    fn status(&self, hints: &str) -> Paragraph<'static> {
        match (&self.message, &self.indexing) {
            (Some(m), _) => {
                Paragraph::new(m.clone()).style(Style::new().add_modifier(Modifier::BOLD))
            }
            (None, Some(i)) => Paragraph::new(i.clone()),
            (None, None) => Paragraph::new(hints.to_owned()).style(self.dim()),
        }
    }

    fn view_search(&self, frame: &mut Frame, area: Rect) {
        let Areas {
            top, list, status, ..
        } = layout(area, true);
        let total_symbols = self.index.as_ref().map(|i| i.len());
        let Mode::Search(search) = &self.mode else {
            return;
        };
        let prompt = match search.purpose {
            Purpose::Open => "Search: ".to_owned(),
            Purpose::PathFrom(_) => format!("Path from {} to: ", self.shown.path_from),
        };
        let count = match total_symbols {
            None if !search.query.trim().is_empty() => {
                format!(
                    "{} names starting so; reading every symbol...",
                    search.matches.total
                )
            }
            None => "reading every symbol...".to_owned(),
            Some(_) if search.query.trim().is_empty() => {
                format!("{} symbols", total_symbols.unwrap_or(0))
            }
            Some(_) if search.close => "nothing matches; the closest names:".to_owned(),
            Some(_) => format!("{} matches", search.matches.total),
        };
        let mut query = crate::names::clean(&search.query);
        // A query longer than the line shows its end, where the typing is.
        let room = usize::from(top.width).saturating_sub(prompt.chars().count() + count.len() + 4);
        let chars = query.chars().count();
        if chars > room {
            query = format!(
                "...{}",
                query
                    .chars()
                    .skip(chars + 3 - room.max(4))
                    .collect::<String>()
            );
        }
        let cursor_x = top.x + (prompt.chars().count() + query.chars().count()) as u16;
        // The last query, shown again: typing replaces it.
        let query_style = if search.fresh {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        let line = Line::from(vec![
            Span::styled(prompt, Style::new().add_modifier(Modifier::BOLD)),
            Span::styled(query, query_style),
            Span::raw("   "),
            Span::styled(count, Style::new().add_modifier(Modifier::DIM)),
        ]);
        frame.render_widget(Paragraph::new(line), top);
        frame.set_cursor_position((cursor_x.min(top.x + top.width.saturating_sub(1)), top.y));

        let height = usize::from(list.height);
        let (offset, selected) = (search.offset, search.selected);
        let hits: Vec<usize> = search
            .matches
            .hits
            .iter()
            .skip(offset)
            .take(height)
            .copied()
            .collect();
        let mut lines = Vec::new();
        for (row, i) in hits.into_iter().enumerate() {
            let Some(index) = self.index.as_ref().or(self.early.as_ref()) else {
                break;
            };
            let e = index.entry(i);
            let (kind, shown) = (e.kind, crate::names::clean(&e.shown));
            let place = self.shown.places.get(row).cloned().unwrap_or_default();
            let mut spans = vec![
                Span::styled(format!("{:<11}", kind.as_str()), self.dim()),
                Span::styled(shown, self.kind_style(Some(kind))),
                Span::raw("  "),
                Span::raw(place),
            ];
            if offset + row == selected {
                spans.insert(0, Span::raw("> "));
            } else {
                spans.insert(0, Span::raw("  "));
            }
            let mut line = Line::from(fit(spans, usize::from(list.width)));
            if offset + row == selected {
                line = line.style(Style::new().add_modifier(Modifier::REVERSED));
            }
            lines.push(line);
        }
        if lines.is_empty() {
            let text = match (&self.index, self.mode_query_empty()) {
                (None, true) => "reading the symbol list...",
                (None, false) => "no name starts so; reading the symbol list for the rest...",
                (_, true) => "type a name: functions, variables, macros, types, fields",
                _ => "nothing matches",
            };
            lines.push(Line::styled(format!("  {text}"), self.dim()));
        }
        frame.render_widget(Paragraph::new(lines), list);
        let hints = if self.pages.is_empty() {
            SEARCH_HINTS.replace("again: cancel", "again: quit")
        } else {
            SEARCH_HINTS.to_owned()
        };
        frame.render_widget(self.status(&hints), status);
    }

    fn mode_query_empty(&self) -> bool {
        match &self.mode {
            Mode::Search(s) => s.query.trim().is_empty(),
            _ => true,
        }
    }

    fn view_browse(&self, frame: &mut Frame, area: Rect) {
        let Areas {
            top: head,
            list,
            source,
            status,
        } = layout(area, false);
        match &self.mode {
            Mode::Confirm(question, _) => frame.render_widget(
                Paragraph::new(question.clone()).style(
                    Style::new()
                        .add_modifier(Modifier::BOLD)
                        .add_modifier(Modifier::REVERSED),
                ),
                status,
            ),
            Mode::Filter => {
                let text = self.page().map_or("", |p| p.filter.as_str());
                let line = Line::from(vec![
                    Span::styled("Filter: ", Style::new().add_modifier(Modifier::BOLD)),
                    Span::raw(crate::names::clean(text)),
                    Span::styled("   Enter: keep  Esc: clear", self.dim()),
                ]);
                frame.render_widget(Paragraph::new(line), status);
            }
            _ => frame.render_widget(self.status(BROWSE_HINTS), status),
        }
        if self.pages.is_empty() {
            frame.render_widget(Paragraph::new("Press / to search."), list);
            return;
        }
        self.view_header(frame, head);
        self.view_tree(frame, list);
        if source.height > 0 {
            self.view_source(frame, source);
        }
    }

    fn view_header(&self, frame: &mut Frame, area: Rect) {
        let Some(page) = self.page() else { return };
        let mut history = format!(
            "  page {} of {} (b back, f forward)",
            self.at + 1,
            self.pages.len()
        );
        if !page.filter.is_empty() {
            history.push_str(&format!(
                "  filter: {} (& changes)",
                crate::names::clean(&page.filter)
            ));
        }
        let lines = match &page.kind {
            PageKind::Symbol(h) => {
                let s = &h.symbol;
                let linkage = match s.linkage {
                    Linkage::External => " (external)",
                    Linkage::Internal => " (internal)",
                    Linkage::None => "",
                };
                let first = Line::from(vec![
                    Span::raw(format!("{} ", s.kind)),
                    Span::styled(h.label.clone(), self.kind_style(Some(s.kind))),
                    Span::raw(linkage),
                    Span::styled(history, self.dim()),
                ]);
                let second = match &h.definition {
                    Some((site, m, defined)) => {
                        let what = if *defined {
                            "defined at"
                        } else {
                            "declared only, at"
                        };
                        let mut spans = vec![Span::raw(format!(
                            "{what} {}:{}:{}",
                            site.shown, site.line, site.col
                        ))];
                        if let Some(m) = m {
                            spans.push(Span::raw("  by macro "));
                            spans.push(Span::styled(
                                m.clone(),
                                Style::new().add_modifier(Modifier::BOLD),
                            ));
                        }
                        if h.definitions > 1 {
                            spans.push(Span::styled(
                                format!("  ({} places)", h.definitions),
                                self.dim(),
                            ));
                        }
                        Line::from(spans)
                    }
                    None => Line::raw("no definition recorded"),
                };
                vec![first, second]
            }
            PageKind::Path { from, to } => vec![
                Line::from(vec![
                    Span::raw("Call paths from "),
                    Span::styled(from.clone(), self.kind_style(Some(Kind::Function))),
                    Span::raw(" to "),
                    Span::styled(to.clone(), self.kind_style(Some(Kind::Function))),
                    Span::styled(history, self.dim()),
                ]),
                Line::styled(
                    format!(
                        "{} shortest; Enter opens a function, e edits the call site",
                        page.tree.roots.len()
                    ),
                    self.dim(),
                ),
            ],
        };
        frame.render_widget(Paragraph::new(lines), area);
    }

    fn view_tree(&self, frame: &mut Frame, area: Rect) {
        let height = usize::from(area.height);
        let focus_tree = self.focus == Focus::Tree;
        let Some(page) = self.page() else {
            return;
        };
        let visible = page.tree.visible();
        let (offset, selected) = (page.offset, page.selected);
        let mut lines = Vec::new();
        for (i, v) in visible.iter().enumerate().skip(offset).take(height) {
            let Some(node) = self.node(&v.path) else {
                continue;
            };
            let r = &node.row;
            let marker = if node.can_expand() {
                if node.expanded {
                    "v "
                } else {
                    "> "
                }
            } else {
                "  "
            };
            let lead = format!("{}{marker}", "  ".repeat(v.depth));
            // What a narrow screen would cut: the middle of the path goes first, so
            // that the name, `:LINE` and the note stay.
            let site = r.site.as_ref().map(|site| {
                let others = lead.chars().count()
                    + r.label.chars().count()
                    + 2
                    + format!(":{}", site.line).len()
                    + if r.note.is_empty() {
                        0
                    } else {
                        2 + r.note.chars().count()
                    }
                    + if r.recursive { 13 } else { 0 };
                let room = usize::from(area.width).saturating_sub(others);
                format!("{}:{}", cut_middle(&site.shown, room), site.line)
            });
            let mut spans = vec![Span::raw(lead)];
            if r.section {
                spans.push(Span::styled(
                    r.label.clone(),
                    Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                ));
            } else if r.dead {
                spans.push(Span::styled(r.label.clone(), self.dim()));
            } else if r.symbol.is_some() {
                spans.push(Span::styled(r.label.clone(), self.kind_style(r.kind)));
            } else {
                spans.push(Span::styled(r.label.clone(), self.dim()));
            }
            if let Some(site) = site {
                spans.push(Span::raw("  "));
                spans.push(if r.dead {
                    Span::styled(site, self.dim())
                } else {
                    Span::raw(site)
                });
            }
            if !r.note.is_empty() {
                spans.push(Span::raw("  "));
                spans.push(Span::styled(r.note.clone(), self.dim()));
            }
            if r.recursive {
                spans.push(Span::styled(
                    "  (recursive)",
                    Style::new().add_modifier(Modifier::ITALIC),
                ));
            }
            let mut line = Line::from(fit(spans, usize::from(area.width)));
            if i == selected {
                let style = if focus_tree {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new().add_modifier(Modifier::UNDERLINED)
                };
                line = line.style(style);
            }
            lines.push(line);
        }
        frame.render_widget(Paragraph::new(lines), area);
    }

    fn view_source(&self, frame: &mut Frame, area: Rect) {
        let border = if self.focus == Focus::Source {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            self.dim()
        };
        let Some(pane) = &self.shown.source else {
            let block = Block::new()
                .borders(Borders::TOP)
                .border_style(border)
                .title(" source ");
            frame.render_widget(Paragraph::new("").block(block), area);
            return;
        };
        let block = Block::new()
            .borders(Borders::TOP)
            .border_style(border)
            .title(pane.title.clone());
        let dim = self.dim();
        let body = match &pane.lines {
            Err(e) => vec![
                Line::raw(e.clone()),
                Line::styled(
                    "(--srctree DIR points nccnav at another copy of the tree)",
                    dim,
                ),
            ],
            Ok(lines) => {
                let mut out = Vec::new();
                let columns = self.page().map_or(0, |p| p.source_columns);
                for (n, text) in lines {
                    let text: String = text.chars().skip(columns).collect();
                    let here = *n == pane.target;
                    let gutter = format!("{:>6}{}", n + 1, if here { ">" } else { " " });
                    // Compiled out by this configuration: dimmed, and without colour
                    // marked in the column before the text.
                    let (mark, style) = match (pane.is_skipped(*n), self.colour) {
                        (false, _) => (" ", Style::new()),
                        (true, true) => (" ", dim.fg(Color::DarkGray)),
                        (true, false) => ("-", dim),
                    };
                    let mut line = Line::from(vec![
                        Span::styled(gutter, if here { Style::new() } else { dim }),
                        Span::raw(mark),
                        Span::styled(text, style),
                    ]);
                    if here {
                        line = line.style(Style::new().add_modifier(Modifier::REVERSED));
                    }
                    out.push(line);
                }
                if pane.past_end {
                    out.push(Line::raw(format!(
                        "(line {} is past the end of the file: the tree changed since the build?)",
                        pane.target + 1
                    )));
                }
                out
            }
        };
        frame.render_widget(Paragraph::new(body).block(block), area);
    }

    fn view_help(&self, frame: &mut Frame, area: Rect) {
        let width = area.width.min(76);
        let height = area.height.min(KEYS.len() as u16 + 2);
        let rect = Rect {
            x: area.x + (area.width - width) / 2,
            y: area.y + (area.height - height) / 2,
            width,
            height,
        };
        let lines: Vec<Line> = KEYS
            .iter()
            .map(|(k, what)| {
                Line::from(vec![
                    Span::styled(
                        format!("{k:<14}"),
                        Style::new().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(*what),
                ])
            })
            .collect();
        let block = Block::bordered().title(" nccnav keys ");
        frame.render_widget(Clear, rect);
        frame.render_widget(Paragraph::new(lines).block(block), rect);
    }
}

/// `path` in at most `width` columns (never less than its file name): the middle
/// replaced by `…`, the start and the file name kept (`drivers/…/intel/e1000e/netdev.c`).
fn cut_middle(path: &str, width: usize) -> String {
    let chars: Vec<char> = path.chars().collect();
    if chars.len() <= width {
        return path.to_owned();
    }
    let name_at = path.rfind('/').map_or(0, |i| path[..i].chars().count() + 1);
    let name: String = chars[name_at..].iter().collect();
    let keep_start = width.saturating_sub(name.chars().count() + 2);
    if keep_start == 0 {
        return if name_at == 0 {
            name
        } else {
            format!("…/{name}")
        };
    }
    // The end of the path before its name, as much as fits after the start.
    let head: String = chars[..keep_start.min(name_at)].iter().collect();
    format!("{head}…{}", &path[path.len() - name.len() - 1..])
}

/// Spans cut to `width` columns, ending in `…` when something was cut, so that a cut
/// row does not read as whole.
fn fit(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    if total <= width || width == 0 {
        return spans;
    }
    let mut left = width - 1;
    let mut out = Vec::new();
    for span in spans {
        let n = span.content.chars().count();
        if n <= left {
            left -= n;
            out.push(span);
            continue;
        }
        let cut: String = span.content.chars().take(left).collect();
        out.push(Span::styled(cut, span.style));
        out.push(Span::styled("…", span.style));
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cut_middle;

    #[test]
    fn a_path_too_long_loses_its_middle_not_its_file_name() {
        let p = "drivers/net/ethernet/intel/e1000e/netdev.c";
        assert_eq!(cut_middle(p, 80), p);
        assert_eq!(cut_middle(p, 20), "drivers/ne…/netdev.c");
        assert_eq!(cut_middle(p, 9), "…/netdev.c");
        assert_eq!(
            cut_middle("kernel/printk/printk_safe.c", 18),
            "ker…/printk_safe.c"
        );
    }
}
