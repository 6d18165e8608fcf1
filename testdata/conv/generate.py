#!/usr/bin/env python3
"""Writes memories.jsonl and queries.jsonl: Engram's conversational search set.

Four users, each with a year of chats with one friend: 12 sessions of about
25 turns, every turn stored as one memory "[date] Speaker: text". Most turns
are small talk built from everyday words (work, dinner, weekend, tired,
family), so a question's common words match hundreds of turns; a few dozen
turns per user carry the facts and events the questions ask about, and some
mention the same people and things without answering.

Questions are natural-language, 6-15 words, written as an agent would ask
them, and typed like the public conversational benchmarks:
  single-hop  answered by one turn;
  multi-hop   needs two or three turns (a person introduced in one, their
              job or town in another);
  temporal    "when" questions answered by the dated turn of the event, or
              "which came first" answered by both turns;
  open-domain an inference or judgement the turns support without stating
              it ("would she enjoy ...", "is he likely to ...").
The questions were written with the facts, before any tuning. Users maya and
leo are the development half (tuning may look at them); aiko and sam are the
held-out half, reported separately and never tuned on.

Run from the repository root: python3 testdata/conv/generate.py
The output is committed; the script documents how it was made.
"""
import datetime, json, os, random

SESSIONS = 12
TURNS = 25  # per session, evidence included

USERS = {
  "u-maya": dict(name="Maya", friend="Jordan", split="dev", start=datetime.date(2024, 1, 8), evidence=[
    ("dog", 1, "We finally adopted a dog from the shelter on Saturday! A beagle mix called Biscuit, he is two years old."),
    ("dogtrain", 5, "Biscuit started obedience classes at the park on Tuesdays, he is the worst student in the group."),
    ("job", 0, "I still work as a UX designer at that fintech startup, mostly on the mobile banking app."),
    ("newjob", 7, "Big news, I accepted the offer from the hospital software company. I start in two weeks as a senior designer."),
    ("quit", 6, "I handed in my notice at the startup today, it feels strange after four years there."),
    ("halftrain", 2, "I signed up for the Riverside half marathon in October, so I am running four mornings a week now."),
    ("halfrace", 9, "I ran the half marathon yesterday in 1 hour 58 minutes! My legs are destroyed but I am so happy."),
    ("ankle", 4, "I twisted my ankle on a trail run near the reservoir, the doctor says no running for three weeks."),
    ("brother", 3, "My brother Daniel got engaged to Priya last weekend, he proposed on a boat on the lake."),
    ("priya", 8, "Priya is a pediatric dentist, the kids at her clinic apparently adore her."),
    ("wedding", 11, "Daniel and Priya set the wedding date for next June, in her parents' garden in Leicester."),
    ("pottery", 2, "I joined a pottery class on Thursday evenings at the community center downtown."),
    ("bowl", 5, "My first bowl from pottery came out of the kiln completely lopsided, I love it anyway."),
    ("lisbon", 6, "I just booked flights to Lisbon with my college friends for the end of May."),
    ("clams", 7, "Lisbon was beautiful but I got food poisoning from some clams on the last night."),
    ("mom", 8, "My mom had her knee replacement surgery on Monday, it went well and she is already walking with a frame."),
    ("momcare", 9, "I am driving to my parents' place every Sunday to help my mom with groceries while her knee heals."),
    ("cats", 3, "I would love a cat too but I am badly allergic, my eyes swell shut within an hour."),
    ("tomatoes", 4, "I planted cherry tomatoes and basil on the balcony, fingers crossed they survive."),
    ("harvest", 8, "The balcony tomatoes exploded this summer, I gave a whole bag to my neighbour Mrs Chen."),
    ("bookclub", 1, "Our book club is reading Pachinko this month, I am hosting on the first Sunday."),
    ("jollof", 10, "I finally made my grandmother's jollof rice recipe for friends and nobody left any."),
    ("grandma", 0, "My grandmother grew up in Lagos and still sends me voice notes with recipes every week."),
    ("wallet", 10, "Someone handed in my lost wallet at the tram depot, everything was still inside."),
    ("car", 11, "I sold my old Honda Civic, with the new job I can take the train every day."),
    ("commute", 8, "The hospital office is right next to the central station, so the commute is twenty minutes."),
    ("fear", 2, "I am terrified of deep water, I never learned to swim properly as a kid."),
    ("kayak", 10, "Jordan, I said no to the kayaking trip, you know how I feel about open water."),
  ], distractors=[
    (1, "Biscuit chewed one of my slippers again this morning, typical."),
    (4, "Daniel called to ask what I am doing for dinner on Friday."),
    (6, "Pottery was cancelled this week because the kiln is broken."),
    (9, "Work is fine, just a lot of meetings this week."),
    (3, "Mom says hi by the way, she asked about you."),
    (11, "I walked Biscuit around the lake after work, it was lovely out."),
  ], questions=[
    ("single-hop", "What is the name of the dog that Maya adopted from the shelter?", ["dog"]),
    ("single-hop", "What kind of class did Maya join on Thursday evenings?", ["pottery"]),
    ("single-hop", "How did the first bowl Maya made in her class turn out?", ["bowl"]),
    ("single-hop", "What did Maya get sick from at the end of her trip?", ["clams"]),
    ("single-hop", "What is the book club reading this month and who is hosting?", ["bookclub"]),
    ("single-hop", "What did Maya plant on her balcony in the spring?", ["tomatoes"]),
    ("single-hop", "How long did it take Maya to finish her half marathon?", ["halfrace"]),
    ("single-hop", "What happened to the wallet that Maya lost on the tram?", ["wallet"]),
    ("single-hop", "Which dish from her grandmother did Maya cook for her friends?", ["jollof"]),
    ("single-hop", "What does Maya do for work at the startup she is at?", ["job"]),
    ("multi-hop", "What does the woman Maya's brother is going to marry do for a living?", ["brother", "priya"]),
    ("multi-hop", "Where will Maya's brother have his wedding and who is he marrying?", ["brother", "wedding"]),
    ("multi-hop", "Why can Maya stop driving to work after changing her job?", ["newjob", "commute", "car"]),
    ("multi-hop", "What kind of dog does Maya have and what classes does he go to?", ["dog", "dogtrain"]),
    ("multi-hop", "Why did Maya have to take a break from training for her race?", ["halftrain", "ankle"]),
    ("multi-hop", "What happened to Maya's mother and how is Maya helping her out?", ["mom", "momcare"]),
    ("temporal", "When did Maya and her family adopt their dog?", ["dog"]),
    ("temporal", "When did Maya run the half marathon she had been training for?", ["halfrace"]),
    ("temporal", "When did Maya's mother have her knee surgery?", ["mom"]),
    ("temporal", "When did Maya tell her boss she was leaving the startup?", ["quit"]),
    ("temporal", "When did Maya's brother get engaged to his girlfriend?", ["brother"]),
    ("temporal", "Did Maya hurt her ankle before or after she signed up for the race?", ["halftrain", "ankle"]),
    ("temporal", "When did Maya book the flights for her trip with college friends?", ["lisbon"]),
    ("open-domain", "Would Maya be happy if someone gave her a kitten as a present?", ["cats"]),
    ("open-domain", "Is Maya likely to enjoy a weekend of sailing and swimming in the sea?", ["fear", "kayak"]),
    ("open-domain", "Does Maya have a connection to Nigerian food and culture through her family?", ["grandma", "jollof"]),
    ("open-domain", "Would a gift for her garden be a good idea for Maya?", ["tomatoes", "harvest"]),
    ("open-domain", "Is Maya someone who could give advice on designing a phone app?", ["job"]),
  ]),

  "u-leo": dict(name="Leo", friend="Sofia", split="dev", start=datetime.date(2024, 2, 5), evidence=[
    ("job", 0, "Teaching history at Lincoln High is exhausting this year, five classes of sophomores and the debate team."),
    ("debate", 3, "My debate team made it to the state finals, the kids have been practising every lunch break."),
    ("debatewin", 6, "We won the regional debate championship on Saturday, the kids were screaming in the bus."),
    ("house", 1, "Hannah and I bought the old brick house on Elm Street, it needs a whole new kitchen."),
    ("kitchen", 5, "The kitchen renovation is finally done, we went with green cabinets and an old farmhouse sink."),
    ("hannah", 0, "Hannah is on night shifts at the ER again, so I do breakfast and school runs for the twins."),
    ("twins", 2, "The twins, Ella and Max, turn seven next month and want a dinosaur party."),
    ("party", 3, "The dinosaur birthday party for the twins was chaos, twenty kids and a rented T-rex costume."),
    ("truck", 4, "I bought a used pickup truck, a 2015 Ford Ranger, to haul lumber for the house."),
    ("truckfix", 9, "The Ranger's transmission died on the highway, the repair costs more than I paid for it."),
    ("bp", 2, "My doctor says my blood pressure is too high, so I am cutting salt and walking every evening."),
    ("bpbetter", 8, "Good news from the checkup, my blood pressure is back to normal after six months."),
    ("sourdough", 1, "I have a sourdough starter now, the twins named it Gerald and feed it every morning."),
    ("bread", 7, "I baked twelve loaves of sourdough for the school bake sale and they sold out in an hour."),
    ("band", 4, "I play bass in a cover band called The Late Fees, we do mostly 90s rock at bars."),
    ("gig", 10, "The Late Fees played the county fair last night, biggest crowd we ever had."),
    ("dad", 5, "My dad and I went fly fishing on the Gunnison river, he caught a huge brown trout."),
    ("dadhealth", 11, "Dad moved into assisted living in Grand Junction, he seems to like the food at least."),
    ("yellowstone", 6, "We are taking the twins camping in Yellowstone in August, I reserved a spot at Madison campground."),
    ("bison", 8, "In Yellowstone a bison walked right past our tent at dawn, Max still talks about it."),
    ("sister", 3, "My sister Rosa moved to Portland to work as a sound engineer for a recording studio."),
    ("rosaband", 9, "Rosa is recording an album for a folk band from Seattle at her studio."),
    ("principal", 10, "The principal asked me to become head of the history department next year."),
    ("accept", 11, "I said yes to the department head job, I start in the fall and keep two classes."),
    ("coffee", 7, "I gave up coffee for a month and the headaches in the first week were brutal."),
    ("spanish", 4, "I am learning Spanish on my phone so I can talk to more of the parents at school."),
  ], distractors=[
    (2, "The twins fought over the last pancake this morning, classic."),
    (5, "Hannah says we should paint the living room next, I am not ready."),
    (7, "School is fine, just grading essays all weekend."),
    (9, "Dad called and talked about fishing for an hour."),
    (10, "I fed Gerald this morning before anyone else was up."),
    (1, "The truck I had as a teenager was a rusty old Chevy, I miss it."),
  ], questions=[
    ("single-hop", "What subject does Leo teach at the high school?", ["job"]),
    ("single-hop", "What colour did Leo and his wife choose for the new kitchen cabinets?", ["kitchen"]),
    ("single-hop", "What is the name of the band that Leo plays bass in?", ["band"]),
    ("single-hop", "What did the doctor tell Leo about his health and what is he doing?", ["bp"]),
    ("single-hop", "What did Leo bake for the school fundraiser and how did it go?", ["bread"]),
    ("single-hop", "What did Leo's dad catch when they went fishing together?", ["dad"]),
    ("single-hop", "What animal walked past the family's tent while they were camping?", ["bison"]),
    ("single-hop", "Why is Leo learning a new language on his phone?", ["spanish"]),
    ("single-hop", "What went wrong with the pickup truck Leo bought?", ["truckfix"]),
    ("single-hop", "What theme did the twins want for their birthday party?", ["twins"]),
    ("multi-hop", "What is the name of the sourdough starter and who named it?", ["sourdough"]),
    ("multi-hop", "What does Leo's sister do and who is she working with now?", ["sister", "rosaband"]),
    ("multi-hop", "Why does Leo take care of breakfast and take the kids to school?", ["hannah", "twins"]),
    ("multi-hop", "What did Leo buy to help with the house and what happened to it?", ["truck", "truckfix"]),
    ("multi-hop", "What job was Leo offered next year and did he accept it?", ["principal", "accept"]),
    ("multi-hop", "How did Leo's blood pressure change after he started cutting salt?", ["bp", "bpbetter"]),
    ("temporal", "When did Leo's debate team win the regional championship?", ["debatewin"]),
    ("temporal", "When did Leo's band play the biggest show they ever had?", ["gig"]),
    ("temporal", "When did Leo and Hannah finish renovating their kitchen?", ["kitchen"]),
    ("temporal", "When did Leo's father move into assisted living?", ["dadhealth"]),
    ("temporal", "When did Leo's truck break down on the highway?", ["truckfix"]),
    ("temporal", "Did Leo buy the house before or after he bought the pickup truck?", ["house", "truck"]),
    ("temporal", "When did the twins have their dinosaur birthday party?", ["party"]),
    ("open-domain", "Would Leo enjoy a concert of guitar rock music from the nineties?", ["band"]),
    ("open-domain", "Is Leo a good person to ask for help with a home improvement project?", ["house", "kitchen"]),
    ("open-domain", "Would salty snacks be a good gift for Leo right now?", ["bp"]),
    ("open-domain", "Does Leo like spending time outdoors with his family?", ["yellowstone", "bison", "dad"]),
    ("open-domain", "Could Leo's sister help someone who wants to record their songs?", ["sister", "rosaband"]),
  ]),

  "u-aiko": dict(name="Aiko", friend="Ben", split="heldout", start=datetime.date(2024, 3, 4), evidence=[
    ("phd", 0, "My PhD is on harbour seals in Nova Scotia, I spend half my week on a boat counting them."),
    ("defense", 10, "I defended my thesis on Friday and passed! Dr Aiko Tanaka, can you believe it."),
    ("barista", 1, "I picked up weekend shifts as a barista at Old Harbour Coffee to pay the rent."),
    ("climb", 2, "I have been going to the bouldering gym three nights a week, my forearms are on fire."),
    ("v5", 7, "I finally sent my first V5 at the climbing gym, the purple one on the overhang."),
    ("move", 4, "I moved to a new apartment in the north end, closer to the university lab."),
    ("claire", 5, "My new roommate Claire practises violin every night until eleven, it is a lot."),
    ("claireorch", 9, "Claire got a seat in the Halifax symphony orchestra, so at least the practice paid off."),
    ("grandma", 3, "My grandmother in Osaka turns ninety next week, the whole family is flying in except me."),
    ("grandmacall", 4, "We did a video call for grandma's ninetieth, she wore the scarf I knitted her."),
    ("drivefail", 2, "I failed my driving test today, I forgot to check the mirror before changing lanes."),
    ("drivepass", 6, "Second attempt and I passed my driving test! No more begging for rides to the field station."),
    ("cats", 5, "I adopted two kittens from the SPCA, brothers, named Miso and Nori."),
    ("vet", 8, "Nori swallowed a hair tie and needed surgery at the emergency vet, he is fine now."),
    ("vegan", 1, "I went vegan in March after reading about fisheries bycatch for my literature review."),
    ("conf", 6, "I presented a poster at the marine mammal conference in San Diego, so many people stopped by."),
    ("phone", 3, "I dropped my phone off the boat ladder and the screen shattered, the seals did not care."),
    ("postdoc", 9, "I got offered a postdoc in Bergen in Norway, working on seabird tracking with GPS tags."),
    ("postdocyes", 11, "I accepted the Bergen position, I move in February and I need to learn Norwegian fast."),
    ("norwegian", 11, "I downloaded a language app and can already say that I am allergic to shrimp in Norwegian."),
    ("shrimp", 2, "I found out the hard way that I am allergic to shrimp, my lips swelled up at a dinner."),
    ("knit", 0, "In the evenings I knit, right now a scarf in dark red wool for my grandmother."),
    ("advisor", 7, "My supervisor Dr Osei is retiring after my defense, I am his last student."),
    ("osei", 8, "Dr Osei invited the lab to his cabin on the Bay of Fundy for a goodbye barbecue."),
    ("brother", 10, "My younger brother Kenji started medical school in Toronto this month."),
    ("storm", 4, "A storm cancelled our boat survey for the third week in a row, the data gap is stressing me out."),
  ], distractors=[
    (2, "The seals were out on the rocks again today, nothing new to report."),
    (6, "Miso knocked my coffee off the desk this morning."),
    (8, "Claire and I made dinner together for once, it was nice."),
    (9, "Thesis writing is slow, I wrote maybe two pages today."),
    (1, "The coffee shop was packed this morning because of the marathon."),
    (11, "Grandma sent me a letter, she writes better English than I do Japanese."),
  ], questions=[
    ("single-hop", "What animals is Aiko studying for her PhD research?", ["phd"]),
    ("single-hop", "Where does Aiko work on the weekends to help pay the rent?", ["barista"]),
    ("single-hop", "What are the names of the kittens Aiko adopted?", ["cats"]),
    ("single-hop", "What did one of Aiko's cats swallow that needed an operation?", ["vet"]),
    ("single-hop", "Why did Aiko decide to stop eating animal products?", ["vegan"]),
    ("single-hop", "What happened to Aiko's phone while she was out on the boat?", ["phone"]),
    ("single-hop", "What food is Aiko allergic to and how did she find out?", ["shrimp"]),
    ("single-hop", "Which city did Aiko go to for the conference and what did she present?", ["conf"]),
    ("single-hop", "What keeps cancelling the boat surveys Aiko needs for her data?", ["storm"]),
    ("single-hop", "Where did Aiko's younger brother start medical school?", ["brother"]),
    ("multi-hop", "What does Aiko's roommate play and where does she play it now?", ["claire", "claireorch"]),
    ("multi-hop", "What job did Aiko get after her PhD and did she say yes?", ["postdoc", "postdocyes"]),
    ("multi-hop", "What did Aiko make for her grandmother's birthday and did she wear it?", ["knit", "grandmacall"]),
    ("multi-hop", "Why did Aiko fail her first driving test and when did she pass?", ["drivefail", "drivepass"]),
    ("multi-hop", "Who is Aiko's supervisor and what is he doing after her defense?", ["advisor", "osei"]),
    ("multi-hop", "Why does Aiko need to learn Norwegian and what can she say already?", ["postdocyes", "norwegian"]),
    ("temporal", "When did Aiko defend her thesis?", ["defense"]),
    ("temporal", "When did Aiko pass her driving test?", ["drivepass"]),
    ("temporal", "When did Aiko adopt the two kittens from the shelter?", ["cats"]),
    ("temporal", "When did Aiko move into the new apartment near the lab?", ["move"]),
    ("temporal", "When is Aiko moving to Norway for her new job?", ["postdocyes"]),
    ("temporal", "Did Aiko go vegan before or after she found out about her allergy?", ["vegan", "shrimp"]),
    ("temporal", "When did Aiko climb her first V5 route at the gym?", ["v5"]),
    ("open-domain", "Would Aiko enjoy a seafood restaurant for her birthday dinner?", ["vegan", "shrimp"]),
    ("open-domain", "Is Aiko comfortable spending a lot of time on the ocean?", ["phd", "storm"]),
    ("open-domain", "Would Aiko be a good person to ask about caring for pet cats?", ["cats", "vet"]),
    ("open-domain", "Does Aiko have family in Japan that she stays in touch with?", ["grandma", "grandmacall"]),
    ("open-domain", "Is Aiko likely to have strong hands and arms these days?", ["climb", "v5"]),
  ]),

  "u-sam": dict(name="Sam", friend="Alex", split="heldout", start=datetime.date(2024, 1, 15), evidence=[
    ("truck", 0, "The taco truck did great today, we sold out of al pastor by two in the afternoon."),
    ("award", 7, "Our truck won best food truck in the Austin Chronicle readers poll!"),
    ("breakdown", 3, "The truck's generator died in the middle of lunch rush, we lost a whole day of sales."),
    ("chris", 1, "Chris has been doing my books for the truck, it helps that he is an accountant."),
    ("podcast", 2, "I started a podcast about local Austin bands, the first episode is with a cumbia group."),
    ("podguest", 8, "This week on the podcast I interviewed the drummer from Black Pumas, I was so nervous."),
    ("knee", 4, "I tore a ligament in my knee playing Sunday league soccer, surgery is in two weeks."),
    ("physio", 6, "Physical therapy for the knee three times a week, I can bend it to ninety degrees now."),
    ("lucia", 5, "My sister Lucia graduated from law school and she is already studying for the bar."),
    ("bar", 10, "Lucia passed the bar exam! She starts at an immigration law firm in San Antonio."),
    ("restaurant", 9, "I am looking at a small space on East Cesar Chavez to open a real restaurant."),
    ("lease", 11, "I signed the lease for the restaurant space, opening is planned for spring."),
    ("chickens", 3, "We got four chickens for the backyard, Chris named them after the Golden Girls."),
    ("eggs", 8, "The chickens are laying six eggs a day now, I use them in the breakfast tacos."),
    ("abuela", 5, "I am flying to Mexico City next week to visit my abuela for her birthday."),
    ("abuelarecipe", 6, "My abuela finally taught me her mole recipe, it takes two whole days to make."),
    ("mole", 7, "We added my abuela's mole to the truck menu and it is already the best seller."),
    ("guitar", 2, "I have been learning guitar from videos, mostly old boleros my dad used to play."),
    ("heat", 4, "It was a hundred and eight degrees inside the truck today, I nearly passed out."),
    ("hire", 10, "I hired my cousin Beto to run the truck on weekends so I can work on the restaurant."),
    ("beto", 11, "Beto trained as a line cook in Houston, he knows the grill better than I do."),
    ("anniversary", 9, "Chris and I celebrated five years together with a weekend in Marfa."),
    ("spicy", 0, "I cannot handle really spicy food, which is funny for a taco cook, I taste everything with milk nearby."),
    ("loan", 10, "The bank approved a small business loan for the restaurant build out."),
    ("dogsit", 1, "I am watching my neighbour's greyhound this week, he sleeps twenty hours a day."),
    ("flood", 8, "Flash flooding closed the road to our usual spot, so we parked the truck at the brewery instead."),
  ], distractors=[
    (2, "Lunch service was slow, people stayed inside because of the rain."),
    (3, "Chris made dinner tonight, a really good pasta."),
    (5, "Lucia called to complain about her landlord again."),
    (7, "The truck needs new tyres soon but that can wait."),
    (9, "Recorded some guitar today, it still sounds rough."),
    (11, "Abuela sent a photo of her garden, the roses look amazing."),
  ], questions=[
    ("single-hop", "What kind of food does Sam sell from his truck?", ["truck"]),
    ("single-hop", "What prize did Sam's food truck win from the newspaper readers?", ["award"]),
    ("single-hop", "What is Sam's podcast about and who was on the first episode?", ["podcast"]),
    ("single-hop", "How did Sam hurt his knee and what does he need?", ["knee"]),
    ("single-hop", "What does Sam's partner do for a job and how does he help?", ["chris"]),
    ("single-hop", "What did Sam's grandmother teach him to cook?", ["abuelarecipe"]),
    ("single-hop", "Why did Sam park the truck at the brewery instead of the usual spot?", ["flood"]),
    ("single-hop", "What kind of songs is Sam learning to play on the guitar?", ["guitar"]),
    ("single-hop", "How did the bank help Sam with his plans for the restaurant?", ["loan"]),
    ("single-hop", "What did Sam and his partner do to celebrate five years together?", ["anniversary"]),
    ("multi-hop", "Who did Sam hire to run the truck on weekends and what is his background?", ["hire", "beto"]),
    ("multi-hop", "What new dish did Sam add to the menu and who taught it to him?", ["abuelarecipe", "mole"]),
    ("multi-hop", "What animals does Sam keep at home and what does he use them for?", ["chickens", "eggs"]),
    ("multi-hop", "What did Sam's sister study and where is she going to work?", ["lucia", "bar"]),
    ("multi-hop", "Where is Sam opening his restaurant and has he signed anything yet?", ["restaurant", "lease"]),
    ("multi-hop", "How is Sam's knee doing after the injury he got playing soccer?", ["knee", "physio"]),
    ("temporal", "When did Sam's food truck win the readers poll?", ["award"]),
    ("temporal", "When did Sam fly to Mexico City to see his grandmother?", ["abuela"]),
    ("temporal", "When did Sam's sister pass the bar exam?", ["bar"]),
    ("temporal", "When did Sam sign the lease for the new restaurant?", ["lease"]),
    ("temporal", "When did the generator on the truck stop working during lunch?", ["breakdown"]),
    ("temporal", "Did Sam get the chickens before or after he started his podcast?", ["podcast", "chickens"]),
    ("temporal", "When did Sam interview the drummer on his podcast?", ["podguest"]),
    ("open-domain", "Would Sam enjoy a dinner at a very hot and spicy curry house?", ["spicy"]),
    ("open-domain", "Is Sam's business doing well enough to grow into something bigger?", ["award", "restaurant", "loan"]),
    ("open-domain", "Does Sam have a strong connection to music in his life?", ["podcast", "guitar"]),
    ("open-domain", "Is Sam likely to know a lot about Mexican family cooking traditions?", ["abuelarecipe", "mole"]),
    ("open-domain", "Would working in a hot kitchen in summer be hard for Sam?", ["heat"]),
  ]),
}

# Small talk: what most turns of a real chat are. Everyday words on purpose,
# the same words the questions are made of.
USER_OPEN = ["Honestly", "Yeah", "Ha", "Oh", "Well", "Ugh", "To be fair", "Anyway", "I mean", "Okay so", "So", "Right,"]
USER_BODY = [
  "I have been so tired this week, work has been a lot",
  "we just stayed in and watched a movie last night",
  "I made pasta for dinner and it was actually pretty good",
  "the weather has been terrible, it rained all weekend",
  "I need to call my mom back, she left me a message",
  "I wanted to go to the gym after work but I did not",
  "I finally cleaned the apartment, it took the whole afternoon",
  "traffic this morning was awful and I was late again",
  "I tried that new coffee place near the station",
  "I spent way too much time on my phone yesterday",
  "the weekend went by way too fast",
  "I slept for ten hours on Saturday and still feel tired",
  "my family wants everyone home for the holidays this year",
  "I have a long list of things to do before the trip",
  "I went for a walk in the park after lunch",
  "we had friends over for dinner on Friday",
  "I am trying to eat better but pizza keeps happening",
  "my neighbour is doing construction again at seven in the morning",
  "I started a new show and now I cannot stop watching it",
  "I forgot my keys at home and had to wait outside",
  "work sent us another survey about how we are feeling",
  "I bought new running shoes even though I barely run",
  "I need a real holiday, somewhere warm with a beach",
  "I had the most boring meeting of my life today",
  "my back hurts from sitting at the desk all day",
  "I should really go to bed earlier",
  "we talked about doing a trip together in the summer",
  "I have not heard from my brother in a while",
  "the kids next door had a birthday party in the garden",
  "I keep meaning to learn how to cook something new",
  "the train was cancelled so I took the bus",
  "I am saving money this month, no eating out",
  "the dog next door barked all night",
  "I had a headache most of the day",
  "we went to the market on Sunday morning",
  "I finished a really good book on the weekend",
  "I have been thinking about changing things up at work",
  "the house is a mess and I do not care",
  "my friends keep sending me videos of cats",
  "I got a parking ticket, of course",
  "I helped a friend move a sofa up three floors",
  "I am going to a wedding next month and have nothing to wear",
  "the doctor's office called to move my appointment",
  "I lost track of time and missed lunch",
  "I made a big pot of soup for the week",
]
USER_END = ["", "lol.", "How about you?", "What have you been up to?", "It was nice though.", "So that was my day.",
            "Anyway, how is your week going?", "I will tell you more later."]
FRIEND = [
  "That sounds nice!", "Oh no, that is rough. Did you get some rest at least?",
  "Ha, same here. I have been meaning to do that for weeks.", "What did you think of it?",
  "I know what you mean, this time of year is always busy.", "Good for you, honestly.",
  "Wait, tell me more about that.", "That is so typical, I am sorry.", "Haha, I love that.",
  "Did you end up going in the end?", "My week has been quiet, mostly work and sleep.",
  "We should get dinner soon and catch up properly.", "How is your family doing?",
  "I went hiking with my cousin on Sunday, it was good to be outside.", "Send me a photo next time!",
  "I have been cooking a lot more at home lately.", "Work has been crazy for me too.",
  "That is a lot, take it easy this weekend.", "I would have done the exact same thing.",
  "How long did that take you?", "You always find the best places.",
  "Let me know if you need help with anything.", "I am so jealous, that sounds amazing.",
  "Ugh, I hate when that happens.", "Did you tell anyone about it?", "Are you feeling better now?",
  "We watched a movie too, nothing special though.", "I have to work this weekend, sadly.",
  "What are you doing for dinner tonight?", "That reminds me, I need to call my parents.",
]


def filler(rnd, seen):
  while True:
    body = rnd.choice(USER_BODY)
    text = f"{rnd.choice(USER_OPEN)} {body}. {rnd.choice(USER_END)}".strip()
    if text not in seen:
      seen.add(text)
      return text


# Multi-hop questions added for issue 18 (entity-aware retrieval), two per
# user, by the session that built the entity ranking: written from the
# evidence above, some whose two turns share a name and some whose turns
# share none, before they were run. Appended after each user's own
# questions, so the first 112 lines of queries.jsonl are unchanged.
EXTRA_QUESTIONS = {
  "u-maya": [
    ("multi-hop", "Who is Daniel engaged to and what does she do for work?", ["brother", "priya"]),
    ("multi-hop", "What did Maya plant on her balcony and who got some of the harvest?", ["tomatoes", "harvest"]),
  ],
  "u-leo": [
    ("multi-hop", "What music does Leo's band play and where was their biggest show?", ["band", "gig"]),
    ("multi-hop", "Where did Leo go fishing with his dad and where does his dad live now?", ["dad", "dadhealth"]),
  ],
  "u-aiko": [
    ("multi-hop", "What are the names of Aiko's kittens and which one needed surgery?", ["cats", "vet"]),
    ("multi-hop", "Where is Aiko moving for her new job and when does she move?", ["postdoc", "postdocyes"]),
  ],
  "u-sam": [
    ("multi-hop", "Who does the books for Sam's truck and what did he name the chickens after?", ["chris", "chickens"]),
    ("multi-hop", "Where is Sam's restaurant going to be and how is he paying for it?", ["restaurant", "loan"]),
  ],
}

def main():
  rnd = random.Random(14)
  here = os.path.dirname(os.path.abspath(__file__))
  memories, queries = [], []
  n = 0
  for user, u in USERS.items():
    seen = set()
    keyed = {}  # session -> [(key, speaker, text)]
    for key, sess, text in u["evidence"]:
      keyed.setdefault(sess, []).append((key, u["name"], text))
    for sess, text in u["distractors"]:
      keyed.setdefault(sess, []).append((None, u["name"], text))
    ids = {}
    for sess in range(SESSIONS):
      date = u["start"] + datetime.timedelta(days=30 * sess + rnd.randrange(0, 6))
      stamp = f"{date.day} {date.strftime('%B %Y')}"
      special = keyed.get(sess, [])
      slots = sorted(rnd.sample(range(1, TURNS - 1), len(special)))
      turns = []
      for i in range(TURNS):
        if i in slots:
          turns.append(special[slots.index(i)])
        elif i % 2 == 0:
          turns.append((None, u["name"], filler(rnd, seen)))
        else:
          turns.append((None, u["friend"], rnd.choice(FRIEND)))
      for key, speaker, text in turns:
        n += 1
        mid = f"c{n:04d}"
        if key:
          ids[key] = mid
        memories.append({"id": mid, "user": user, "text": f"[{stamp}] {speaker}: {text}"})
    u["ids"] = ids
    for qtype, q, keys in u["questions"]:
      words = len(q.split())
      assert 4 <= words <= 15, q
      queries.append({"user": user, "query": q, "relevant": [ids[k] for k in keys], "type": qtype, "split": u["split"]})
  for user, u in USERS.items():
    for qtype, q, keys in EXTRA_QUESTIONS.get(user, []):
      assert 4 <= len(q.split()) <= 15, q
      queries.append({"user": user, "query": q, "relevant": [u["ids"][k] for k in keys], "type": qtype, "split": u["split"]})
  with open(os.path.join(here, "memories.jsonl"), "w") as f:
    for m in memories:
      f.write(json.dumps(m, ensure_ascii=False) + "\n")
  with open(os.path.join(here, "queries.jsonl"), "w") as f:
    for q in queries:
      f.write(json.dumps(q, ensure_ascii=False) + "\n")
  print(len(memories), "memories,", len(queries), "queries")


main()
