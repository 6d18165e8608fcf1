#!/usr/bin/env python3
"""Writes memories.jsonl and queries.jsonl: Engram's labelled search set.

Six users share one pool of fact templates filled with different values, so
every user has many memories on the same topics (family, food, work, health,
travel, home, hobbies) and identical wording across users: a search must pick
the right fact among near neighbours and must never cross users. Queries are
written the way agents ask: questions full of stop words, other word forms
than the memory uses (plural, -ing, -er), misspellings, partial names, and a
few exact tokens (codes, numbers). Each query lists the ids that answer it.

Run from the repository root: python3 testdata/eval/generate.py
The output is committed; the script documents how it was made.
"""
import json, os, random

USERS = {
    "u-ana":   dict(name="Ana", sibling="sister", sib="Marta", job="pediatric nurse", city="Lyon", diet="vegetarian", avoid="mushrooms",
                    pet="a grey cat called Pixel", sport="bouldering", instrument="cello", car="a blue Renault Zoe", allergy="penicillin",
                    drink="oat milk flat white", trip="Kyoto", trip_month="April", lang="Japanese", book="Dune", code="4711", partner="Jonas",
                    partner_job="carpenter", kid="Lea", kid_age="seven", school="Montessori school", morning="runs along the river",
                    fear="flying", tool="Neovim", os_="Arch Linux", team="Olympique Lyonnais", bday="March 3", plant="basil", color="teal"),
    "u-ben":   dict(name="Ben", sibling="brother", sib="Oscar", job="structural engineer", city="Leeds", diet="pescatarian", avoid="coriander",
                    pet="a beagle called Biscuit", sport="rowing", instrument="trumpet", car="a red Volvo estate", allergy="peanuts",
                    drink="double espresso", trip="Patagonia", trip_month="November", lang="Spanish", book="The Overstory", code="9052", partner="Priya",
                    partner_job="dentist", kid="Sam", kid_age="four", school="forest kindergarten", morning="cycles to the office",
                    fear="spiders", tool="IntelliJ", os_="macOS", team="Leeds United", bday="July 19", plant="tomatoes", color="orange"),
    "u-chen":  dict(name="Chen", sibling="cousin", sib="Wei", job="data scientist", city="Singapore", diet="vegan", avoid="durian",
                    pet="two goldfish", sport="badminton", instrument="piano", car="no car, only the MRT", allergy="shellfish",
                    drink="jasmine tea", trip="Iceland", trip_month="February", lang="German", book="Project Hail Mary", code="2580", partner="Mei",
                    partner_job="architect", kid="Yu", kid_age="eleven", school="international school", morning="does tai chi in the park",
                    fear="deep water", tool="VS Code", os_="Ubuntu", team="Liverpool", bday="October 30", plant="orchids", color="green"),
    "u-dara":  dict(name="Dara", sibling="sister", sib="Niamh", job="veterinary surgeon", city="Galway", diet="gluten-free", avoid="olives",
                    pet="an old sheepdog called Murphy", sport="sea swimming", instrument="fiddle", car="a green Skoda Octavia", allergy="bee stings",
                    drink="builder's tea", trip="Lisbon", trip_month="June", lang="Portuguese", book="Normal People", code="1916", partner="Cormac",
                    partner_job="fisherman", kid="Aoife", kid_age="two", school="creche", morning="walks the dog on the beach",
                    fear="heights", tool="Excel", os_="Windows", team="Connacht Rugby", bday="May 12", plant="lavender", color="purple"),
    "u-eli":   dict(name="Eli", sibling="brother", sib="Noam", job="sous chef", city="Tel Aviv", diet="kosher", avoid="aubergine",
                    pet="a parrot called Kiwi", sport="surfing", instrument="oud", car="a white Vespa scooter", allergy="latex",
                    drink="fresh mint lemonade", trip="Oaxaca", trip_month="December", lang="French", book="The Name of the Wind", code="3366", partner="Dana",
                    partner_job="journalist", kid="Ari", kid_age="nine", school="bilingual school", morning="goes to the market",
                    fear="needles", tool="Notion", os_="iOS", team="Maccabi Tel Aviv", bday="January 8", plant="figs", color="yellow"),
    "u-fatou": dict(name="Fatou", sibling="twin sister", sib="Awa", job="civil rights lawyer", city="Dakar", diet="halal", avoid="okra",
                    pet="a tortoise called Senghor", sport="basketball", instrument="kora", car="a silver Toyota Corolla", allergy="dust mites",
                    drink="bissap juice", trip="Montreal", trip_month="September", lang="Wolof", book="Americanah", code="7777", partner="Ibrahima",
                    partner_job="pharmacist", kid="Khady", kid_age="five", school="French lycee", morning="prays and then reads the news",
                    fear="thunderstorms", tool="Google Docs", os_="Android", team="Casa Sports", bday="August 21", plant="mango tree", color="red"),
}

# (memory template, [queries]) — queries phrased unlike the memory on purpose.
FACTS = [
    ("{name}'s {sibling} {sib} works as a {job}.", ["what does {sib} do for a living", "{sibling}s occupation"]),
    ("{name} works as a {job} in {city}.", ["where is {name} employed and what is the job", "{name} profession"]),
    ("{name} is {diet} and never eats meat at dinners.", ["dietary restrictions when cooking for {name}", "is {name} a {diet}"]),
    ("{name} really dislikes {avoid}; leave them out of any dish.", ["ingredients {name} hates", "does {name} like {avoid}"]),
    ("{name} lives with {pet}.", ["what pets does {name} have", "animals at home"]),
    ("Weekend hobby: {sport} with friends from work.", ["what sports does {name} play on weekends", "{sport} partners"]),
    ("{name} has played the {instrument} since childhood.", ["musical instruments {name} plays", "{instrument} lessons as a kid"]),
    ("{name} drives {car}.", ["what vehicle does {name} use", "car model"]),
    ("Medical: {name} is allergic to {allergy}.", ["allergies to tell the doctor", "{allergy} allergy"]),
    ("Usual coffee order: {drink}.", ["what to order for {name} at the cafe", "favourite drink"]),
    ("Planning a trip to {trip} in {trip_month}.", ["upcoming travel plans", "when is the {trip} holiday"]),
    ("Learning {lang} on Duolingo every evening.", ["which language is {name} studying", "{lang} practice"]),
    ("Currently reading {book}.", ["what book is {name} reading now", "novel on the nightstand"]),
    ("The door code for the building is {code}.", ["building entry code", "{code}"]),
    ("{name}'s partner {partner} is a {partner_job}.", ["who is {name}'s partner", "what does {partner} work as"]),
    ("{name}'s child {kid} is {kid_age} years old and goes to a {school}.", ["how old is {kid}", "which school does the kid attend"]),
    ("Every morning {name} {morning}.", ["morning routine", "what does {name} do before work"]),
    ("{name} is afraid of {fear}.", ["phobias", "things that scare {name}"]),
    ("Prefers {tool} for writing and editing.", ["favourite editor or writing tool", "{tool} settings"]),
    ("Personal computer runs {os_}.", ["operating system on the laptop", "which OS does {name} use"]),
    ("Supports {team} and watches every match.", ["favourite team", "football or rugby club {name} follows"]),
    ("{name}'s birthday is {bday}.", ["when is {name}'s birthday", "date of birth celebration"]),
    ("Grows {plant} on the balcony.", ["gardening", "what plants does {name} grow"]),
    ("Favourite colour is {color}.", ["what colour does {name} like best", "preferred color for gifts"]),
]

# Facts that only some users have, and near-duplicates that compete.
EXTRA = [
    ("u-ana", "Ana booked a cooking class on Japanese vegetarian cuisine in Kyoto.", ["vegetarian cooking course in Japan"]),
    ("u-ana", "Ana's sister Marta is pregnant with her first baby, due in August.", ["when is Marta's baby due", "sister expecting a child"]),
    ("u-ana", "Ana wants to run the Lyon half marathon next year.", ["running race goals", "half-marathon plans"]),
    ("u-ana", "Ana's cat Pixel needs thyroid medication twice a day.", ["cat medicine schedule", "Pixel's pills"]),
    ("u-ben", "Ben's brother Oscar moved to Toronto for a new engineering job.", ["where did Oscar move", "brother relocated to Canada"]),
    ("u-ben", "Ben is training for a 2000 m rowing test in March.", ["rowing erg test date", "2k row training"]),
    ("u-ben", "Ben keeps an EpiPen in his backpack because of the peanut allergy.", ["where is the epipen", "emergency adrenaline injector"]),
    ("u-ben", "Ben and Priya are renovating the kitchen of their terraced house.", ["home renovation project", "kitchen remodel"]),
    ("u-chen", "Chen presented a paper on graph neural networks at NeurIPS.", ["conference talk on GNNs", "NeurIPS paper"]),
    ("u-chen", "Chen's cousin Wei runs a hawker stall selling laksa.", ["what business does Wei run", "laksa stall"]),
    ("u-chen", "Chen is saving up to buy a flat in Tiong Bahru.", ["apartment purchase plans", "saving money for housing"]),
    ("u-chen", "Chen's son Yu is preparing for the PSLE exams.", ["Yu's exam preparation", "primary school leaving exam"]),
    ("u-dara", "Dara volunteers at the RNLI lifeboat station on Saturdays.", ["volunteering", "lifeboat crew"]),
    ("u-dara", "Dara's sheepdog Murphy has arthritis in his back legs.", ["dog's joint problems", "Murphy health issues"]),
    ("u-dara", "Dara is allergic to bee stings and carries antihistamines when hiking.", ["what to carry on hikes for allergies"]),
    ("u-dara", "Dara's sister Niamh is getting married in Connemara in June.", ["Niamh's wedding", "family wedding date and place"]),
    ("u-eli", "Eli is opening his own restaurant in Jaffa next spring.", ["restaurant opening plans", "new restaurant location"]),
    ("u-eli", "Eli's parrot Kiwi can say good morning in three languages.", ["talking bird tricks", "what can Kiwi say"]),
    ("u-eli", "Eli works night shifts on Fridays and Saturdays.", ["work schedule weekends", "night shift days"]),
    ("u-eli", "Eli's brother Noam is a software developer in Berlin.", ["where does Noam live", "brother's job in Germany"]),
    ("u-fatou", "Fatou argued a landmark case on freedom of assembly before the Supreme Court.", ["court case about protests", "Supreme Court argument"]),
    ("u-fatou", "Fatou's twin sister Awa is a radio host in Saint-Louis.", ["what does Awa do", "twin's radio show"]),
    ("u-fatou", "Fatou mentors young women law students every Wednesday.", ["mentoring schedule", "mentorship of law students"]),
    ("u-fatou", "Fatou's tortoise Senghor is over forty years old.", ["how old is the tortoise", "Senghor's age"]),
]

# Distractors: chit-chat sharing the facts' vocabulary but answering nothing.
NOISE = [
    "{name} said the {city} weather has been rainy all week.",
    "{name} asked for a summary of yesterday's meeting notes.",
    "{name} mentioned a colleague's cat knocked over a plant.",
    "Reminder set: call the bank about the card on Monday.",
    "{name} found a podcast about the history of coffee.",
    "{name} thinks the new office chairs are uncomfortable.",
    "{partner} recommended a documentary about ocean life.",
    "{name} lost an umbrella on the train last Thursday.",
    "{name} asked how to convert a recipe from cups to grams.",
    "{name} wants a reminder to renew the passport next year.",
    "{name} watched a match at a friend's place but did not care who won.",
    "{name} complained that the printer at work jams every day.",
    "{kid} has a school trip to the science museum.",
    "{name} is comparing electricity tariffs for the flat.",
    "{name} tried a new bakery near the station.",
    "{name} asked for a packing list for a weekend away.",
    "{name} is annoyed by the neighbours' loud music.",
    "The internet at home was down for two hours.",
    "{name} ordered new running shoes online.",
    "{name} wants to read more books this year.",
    "{sib} sent photos from a birthday party.",
    "{name} asked about tax deadlines for freelancers.",
    "{name} needs to return a parcel to the post office.",
    "{name} signed up for a newsletter about gardening tools.",
    "{name} asked what time the pharmacy closes on Sundays.",
]

def main():
    rnd = random.Random(42)
    here = os.path.dirname(os.path.abspath(__file__))
    memories, queries = [], []
    n = 0
    for user, v in USERS.items():
        for tmpl, qs in FACTS:
            n += 1
            mid = f"m{n:03d}"
            memories.append({"id": mid, "user": user, "text": tmpl.format(**v)})
            # One query per fact per user, alternating between the phrasings,
            # keeps the set balanced and a few hundred lines long.
            q = qs[rnd.randrange(len(qs))]
            queries.append({"user": user, "query": q.format(**v), "relevant": [mid]})
    for user, v in USERS.items():
        for tmpl in NOISE:
            n += 1
            memories.append({"id": f"m{n:03d}", "user": user, "text": tmpl.format(**v)})
    for user, text, qs in EXTRA:
        n += 1
        mid = f"m{n:03d}"
        memories.append({"id": mid, "user": user, "text": text})
        for q in qs:
            queries.append({"user": user, "query": q, "relevant": [mid]})
    with open(os.path.join(here, "memories.jsonl"), "w") as f:
        for m in memories:
            f.write(json.dumps(m, ensure_ascii=False) + "\n")
    with open(os.path.join(here, "queries.jsonl"), "w") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(len(memories), "memories,", len(queries), "queries")

main()
