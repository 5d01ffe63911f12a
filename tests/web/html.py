"""Reading pages as a person (and a screen reader) does: elements found by their
accessible names, forms filled in and sent as a browser would. Standard library
only (html.parser)."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: "Element | None" = None
    children: "list[Element | str]" = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    @property
    def text(self) -> str:
        """The text inside, whitespace collapsed."""
        parts: list[str] = []

        def walk(node: "Element | str") -> None:
            if isinstance(node, str):
                parts.append(node)
            else:
                for child in node.children:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    @property
    def name(self) -> str:
        """The accessible name of a button or link: aria-label, else its text."""
        return self.attrs.get("aria-label") or self.text

    def all(self, tag: str | None = None, **attrs: str) -> "list[Element]":
        """Descendants with this tag and these attribute values (``data_testid`` is
        ``data-testid``, ``class_`` is ``class``; a value of "" only asks that the
        attribute be present)."""
        wanted = {key.rstrip("_").replace("_", "-"): value for key, value in attrs.items()}
        found: list[Element] = []

        def walk(node: Element) -> None:
            for child in node.children:
                if isinstance(child, Element):
                    if (tag is None or child.tag == tag) and all(
                        key in child.attrs and (value == "" or child.attrs[key] == value)
                        for key, value in wanted.items()
                    ):
                        found.append(child)
                    walk(child)

        walk(self)
        return found

    def one(self, tag: str | None = None, **attrs: str) -> "Element":
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}> found"
        return found[0]

    def button(self, name: str) -> "Element":
        """The one button with this accessible name."""
        found = [b for b in self.all("button") if b.name == name]
        assert len(found) == 1, f"{len(found)} buttons named {name!r}"
        return found[0]

    def buttons(self) -> list[str]:
        return [b.name for b in self.all("button")]

    def labelled(self, label: str) -> "Element":
        """The one control whose <label> says exactly ``label``."""
        labels = [lab for lab in self.all("label") if lab.text == label]
        assert len(labels) == 1, f"{len(labels)} labels {label!r}"
        return self.root().one(id=labels[0].attrs["for"])

    def root(self) -> "Element":
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def ancestor(self, tag: str) -> "Element":
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"no <{tag}> around {self}"
        return node

    def form_values(self) -> dict[str, str]:
        """What a browser sends for this form as it stands (before any button's own
        name and value): inputs, selected options, text areas."""
        values: dict[str, str] = {}
        for element in self.all():
            name = element.attrs.get("name")
            if not name:
                continue
            kind = element.attrs.get("type")
            if kind in ("checkbox", "radio") and "checked" not in element.attrs:
                continue  # a browser sends only the boxes and the radio checked
            if element.tag == "input" and kind not in ("submit", "button"):
                values[name] = element.attrs.get("value", "on")
            elif element.tag == "select":
                options = element.all("option")
                chosen = [o for o in options if "selected" in o.attrs] or options[:1]
                values[name] = chosen[0].attrs.get("value", chosen[0].text) if chosen else ""
            elif element.tag == "textarea":
                values[name] = element.text
        return values

    def described_by(self) -> list[str]:
        """The texts this control's aria-describedby points at."""
        root = self.root()
        ids = self.attrs.get("aria-describedby", "").split()
        return [root.one(id=ident).text for ident in ids]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, parent=self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, parent=self.current)
        self.current.children.append(element)

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
