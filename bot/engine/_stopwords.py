"""Stop-word lists (Snowball's German and English lists plus question phrasing).

Question phrasing ("Was hat X gesagt?", "Wer ist ...") carries no content of its own; treating it as
stop words keeps it from matching passages and from counting against the no-answer cut-off.
"""

__all__ = ["BY_LANGUAGE", "ENGLISH", "GERMAN"]

GERMAN = frozenset(
    """
beim vom ans aufs durchs fürs ums übers unters vors hinters
heißt hieß heißen hießen lautet lautete lauten lauteten nennt nannte nannten genannt gilt galt
worum wovor womit wonach woraus worin
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
anderes anderm andern anderr anders auch auf aus bei bin bis bist da damit dann das dass daß
dasselbe dazu dein deine deinem deinen deiner deines dem demselben den denn denselben der
derer derselbe derselben des desselben dessen dich die dies diese dieselbe dieselben diesem
diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines einig einige
einigem einigen einiger einiges einmal er es etwas euch euer eure eurem euren eurer eures
für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre
ihrem ihren ihrer ihres im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen
jener jenes jetzt kann kein keine keinem keinen keiner keines können könnte machen man
manche manchem manchen mancher manches mein meine meinem meinen meiner meines mich mir mit
muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen seiner
seines selbst sich sie sind so solche solchem solchen solcher solches soll sollte sondern
sonst über um und uns unsere unserem unseren unser unseres unter viel vom von vor während
war waren warst was weg weil weiter welche welchem welchen welcher welches wenn werde werden
wie wieder will wir wird wirst wo wollen wollte würde würden zu zum zur zwar zwischen wer
wen wem wessen wann warum wieso weshalb weswegen wofür wozu womit wodurch woher wohin
worüber wovon worauf woran wieviel wieviele wie viele gibt gab geben gesagt sagen sagt sagte
sagten meint meinte gemeint erzählt erzähle erzählen bitte etwa eigentlich denn genau mal
schon ja
""".split()
)

ENGLISH = frozenset(
    """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
tell told say said says please
""".split()
)

BY_LANGUAGE: dict[str, frozenset[str]] = {"de": GERMAN, "en": ENGLISH}
